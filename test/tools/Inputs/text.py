"""Writes a small English text for the language-model tests: train.txt and
val.txt in DIR (lines of a few sentences, in a seeded order)."""
import random
import sys

LINES = [
    "the cat sat on the mat and looked at the dog.",
    "a dog ran to the tree and sat down in the sun.",
    "the sun is warm and the day is long.",
    "we went to the sea to see the ships go by.",
    "she read a book by the window as it rained.",
    "the old man and the boy walked to the town.",
]
d = sys.argv[1]
rng = random.Random(0)
with open(d + "/train.txt", "w") as f:
    f.write("\n".join(rng.choice(LINES) for _ in range(120)) + "\n")
with open(d + "/val.txt", "w") as f:
    f.write("\n".join(rng.choice(LINES) for _ in range(12)) + "\n")
