# Workload for micropython-string 0.1: the character classes and translate() (on io.StringIO).
import string

print("lowercase:", string.ascii_lowercase)
print("letters:", len(string.ascii_letters), string.ascii_letters[24:28])
print("digits:", string.digits, string.hexdigits, string.octdigits)
print("punctuation:", string.punctuation)
print("whitespace:", repr(string.whitespace))
print("printable:", len(string.printable))
table = {ord("a"): "4", ord("e"): 51, ord("o"): None, ord("s"): "$$"}
print("translate:", string.translate("hello sea shore", table))
print("translate unicode:", string.translate("café", {ord("é"): "e"}))
print("classes:", [c in string.hexdigits for c in "aG9"])
print("workload done")
