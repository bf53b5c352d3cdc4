# Workload for micropython-unittest 0.4: test cases run through TestSuite/TestRunner (not
# unittest.main(), which ends with sys.exit). One test method per class: run_class orders
# methods by dir(), whose order is the VM's qstr order, not something to compare.
import unittest


class TestArithmetic(unittest.TestCase):
    def test_add(self):
        self.assertEqual(1 + 1, 2)
        self.assertNotEqual(1, 2)
        self.assertTrue(3 > 2)
        self.assertFalse(2 > 3)
        self.assertIn(2, [1, 2, 3])
        self.assertIsNone(None)
        self.assertIsNotNone(0)
        self.assertIs(True, True)
        self.assertIsInstance("s", str)


class TestAlmost(unittest.TestCase):
    def test_almost(self):
        self.assertAlmostEqual(1.0, 1.00000001)
        self.assertAlmostEqual(10, 10.4, delta=0.5)
        self.assertNotAlmostEqual(1.0, 1.1)


class TestRaises(unittest.TestCase):
    def test_raises(self):
        with self.assertRaises(ZeroDivisionError):
            1 // 0
        self.assertRaises(KeyError, lambda: {}["k"])


class TestFails(unittest.TestCase):
    def test_fails(self):
        self.assertEqual([1, 2], [1, 3], "lists differ")


class TestErrors(unittest.TestCase):
    def test_error(self):
        raise ValueError("not an assertion")


class TestSkip(unittest.TestCase):
    @unittest.skip("not today")
    def test_skipped(self):
        self.fail("ran")


class TestSetUp(unittest.TestCase):
    def setUp(self):
        self.items = [3, 1, 2]

    def tearDown(self):
        self.items = None

    def test_sorted(self):
        self.assertEqual(sorted(self.items), [1, 2, 3])


suite = unittest.TestSuite()
for case in (TestArithmetic, TestAlmost, TestRaises, TestFails, TestErrors, TestSkip, TestSetUp):
    suite.addTest(case)
result = unittest.TestRunner().run(suite)
print("run:", result.testsRun, "failures:", result.failuresNum, "errors:", result.errorsNum, "skipped:", result.skippedNum)
print("successful:", result.wasSuccessful())
for text in result.exceptions:
    print("captured:", text.strip().splitlines()[-1])
try:
    unittest.TestCase().fail("direct")
except AssertionError as e:
    print("fail():", e)
print("workload done")
