#!/usr/bin/env python3
"""Generate the pretraining corpus of Fine-Tuning Studio's embedded tiny base model.

Recipe
======
The app trains, on the CPU and with no download, a sentencepiece tokenizer (BPE,
vocabulary ~2048, byte fallback, split digits) and a tiny Llama-architecture model
(~2-3 M parameters, context 256 tokens, ~0.5-1 M tokens seen in ~4 minutes) on the
committed output of this script.  The corpus is therefore small, simple and very
regular, with a deliberately limited vocabulary, and it contains the formats that the
fine-tuning techniques later exercise (question/answer, instruction/response,
checkable arithmetic), so that their effects are visible on the tiny model.

Everything is generated from small hand-written tables and templates in this file
(no downloads, no copied text).  All answers are computed from the tables, so the
facts are consistent across phrasings and the arithmetic is correct.

Five categories, mixed by *bytes* in these proportions and then shuffled:

  story        30 %  simple English sentences and 2-4 sentence stories about people,
                     animals, places, weather, food and colours
  fact         25 %  facts from the tables (countries and capitals, animals: legs,
                     sounds, homes, food, abilities; colours of things; opposites;
                     days and months; planets; numbers and shapes), several phrasings
  qa           20 %  "Question: ...\\nAnswer: ..." pairs (1-3 per document), some
                     after a short story (reading comprehension)
  instruction  15 %  "### Instruction:\\n...\\n### Response:\\n..." pairs: name, list,
                     opposite, sort, count, capitals, complete the sentence, yes/no,
                     plural, next in sequence, JSON ... (answers computed)
  arithmetic   10 %  "12 + 7 = 19" lines, "Question: What is 12 + 7?\\nAnswer: 19",
                     and small word problems; operands mostly 0-20, some up to 99

Output format (exact)
=====================
Files are UTF-8 (in fact pure ASCII) with LF line endings.  A document is one or
more non-empty lines; no document contains an empty line, a carriage return, a tab,
leading/trailing spaces on a line, or leading/trailing newlines.  Documents are
separated by exactly one empty line, i.e. the file is

    doc_1 + "\\n\\n" + doc_2 + "\\n\\n" + ... + doc_N + "\\n"

so splitting the file content (minus its final "\\n") on "\\n\\n" yields the documents.

Answer conventions (used by the verifiers of later fine-tuning examples):
  * Q&A:          "Question: <q>\\nAnswer: <a>"  (fact answers are full sentences,
                  numeric answers are the bare number, e.g. "Answer: 19").
  * Instructions: "### Instruction:\\n<task>\\n### Response:\\n<answer>"  (single
                  newlines, no blank line).  Single words/lists of words: first
                  letter capital, ending in "." ("Blue.", "Red, blue, green.");
                  numbers and number lists: bare ("19", "2, 7, 9"); yes/no: "Yes."/"No.".

Outputs (written next to this script):
  train.txt    ~1.6 MB, seed 20240601
  heldout.txt  ~80 KB,  seed 20240602: the same generators and proportions with a
               different random stream, so the distribution is the same; about 84 %
               of its documents do not occur in train.txt (the rest are short,
               common documents such as a single capital-city question, which are
               kept so that the distribution is not biased)

Determinism: only random.Random(seed) with randrange/random/shuffle is used, and no
iteration over sets or hash-ordered containers, so the output is byte-identical on
every run and Python 3 version.  Regenerating with different tables or seeds changes
the embedded base model (the app retrains it when the corpus changes).

Usage:  python3 datasets/base_corpus/generate.py [--stats]
"""

import hashlib
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

TRAIN_SEED = 20240601
HELDOUT_SEED = 20240602
TRAIN_BYTES = 1_600_000
HELDOUT_BYTES = 80_000

CATEGORY_SHARES = [
    ("story", 0.30),
    ("fact", 0.25),
    ("qa", 0.20),
    ("instruction", 0.15),
    ("arithmetic", 0.10),
]

# --------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------

# (country, capital, continent, language or None)
COUNTRIES = [
    ("France", "Paris", "Europe", "French"),
    ("Germany", "Berlin", "Europe", "German"),
    ("Spain", "Madrid", "Europe", "Spanish"),
    ("Italy", "Rome", "Europe", "Italian"),
    ("Portugal", "Lisbon", "Europe", "Portuguese"),
    ("Greece", "Athens", "Europe", "Greek"),
    ("Poland", "Warsaw", "Europe", "Polish"),
    ("Sweden", "Stockholm", "Europe", "Swedish"),
    ("Norway", "Oslo", "Europe", "Norwegian"),
    ("Finland", "Helsinki", "Europe", "Finnish"),
    ("Denmark", "Copenhagen", "Europe", "Danish"),
    ("Ireland", "Dublin", "Europe", None),
    ("Austria", "Vienna", "Europe", "German"),
    ("Hungary", "Budapest", "Europe", "Hungarian"),
    ("Japan", "Tokyo", "Asia", "Japanese"),
    ("China", "Beijing", "Asia", "Chinese"),
    ("India", "New Delhi", "Asia", None),
    ("Thailand", "Bangkok", "Asia", "Thai"),
    ("Vietnam", "Hanoi", "Asia", "Vietnamese"),
    ("South Korea", "Seoul", "Asia", "Korean"),
    ("Indonesia", "Jakarta", "Asia", "Indonesian"),
    ("Iran", "Tehran", "Asia", "Persian"),
    ("Egypt", "Cairo", "Africa", "Arabic"),
    ("Kenya", "Nairobi", "Africa", None),
    ("Nigeria", "Abuja", "Africa", None),
    ("Morocco", "Rabat", "Africa", None),
    ("Ghana", "Accra", "Africa", None),
    ("Canada", "Ottawa", "North America", None),
    ("Mexico", "Mexico City", "North America", "Spanish"),
    ("Cuba", "Havana", "North America", "Spanish"),
    ("Brazil", "Brasilia", "South America", "Portuguese"),
    ("Argentina", "Buenos Aires", "South America", "Spanish"),
    ("Peru", "Lima", "South America", "Spanish"),
    ("Chile", "Santiago", "South America", "Spanish"),
    ("Colombia", "Bogota", "South America", "Spanish"),
    ("Australia", "Canberra", "Oceania", "English"),
    ("New Zealand", "Wellington", "Oceania", None),
]

# name, plural, legs (None: not stated), sound word (None), sound verb (None),
# home phrase, food, abilities, can fly (True/False/None = do not state), size
ANIMALS = [
    ("dog", "dogs", 4, "woof", "barks", "in a house", "meat", ["run", "swim", "jump"], False, None),
    ("cat", "cats", 4, "meow", "meows", "in a house", "fish", ["run", "climb", "jump"], False, "small"),
    ("cow", "cows", 4, "moo", "moos", "on a farm", "grass", ["walk"], False, "big"),
    ("horse", "horses", 4, "neigh", "neighs", "on a farm", "hay", ["run", "jump"], False, "big"),
    ("sheep", "sheep", 4, "baa", "bleats", "on a farm", "grass", ["run"], False, None),
    ("pig", "pigs", 4, "oink", "oinks", "on a farm", "corn", ["run"], False, None),
    ("duck", "ducks", 2, "quack", "quacks", "on a pond", "seeds", ["fly", "swim"], True, "small"),
    ("chicken", "chickens", 2, "cluck", "clucks", "on a farm", "seeds", ["run"], None, "small"),
    ("frog", "frogs", 4, "ribbit", "croaks", "in a pond", "insects", ["jump", "swim"], False, "small"),
    ("lion", "lions", 4, None, "roars", "on the grassland", "meat", ["run"], False, "big"),
    ("tiger", "tigers", 4, None, "growls", "in the jungle", "meat", ["run", "swim"], False, "big"),
    ("elephant", "elephants", 4, None, "trumpets", "on the grassland", "leaves", ["walk"], False, "big"),
    ("monkey", "monkeys", None, None, "chatters", "in the jungle", "bananas", ["climb", "jump"], False, "small"),
    ("bird", "birds", 2, "tweet", "sings", "in a tree", "seeds", ["fly"], True, "small"),
    ("owl", "owls", 2, "hoot", "hoots", "in the forest", "mice", ["fly"], True, "small"),
    ("fish", "fish", 0, None, None, "in the water", "small plants", ["swim"], False, "small"),
    ("shark", "sharks", 0, None, None, "in the sea", "fish", ["swim"], False, "big"),
    ("whale", "whales", 0, None, "sings", "in the sea", "small fish", ["swim"], False, "big"),
    ("bee", "bees", 6, "buzz", "buzzes", "in a hive", "nectar", ["fly"], True, "small"),
    ("ant", "ants", 6, None, None, "in the ground", "leaves", ["climb"], None, "small"),
    ("spider", "spiders", 8, None, None, "in a web", "insects", ["climb"], False, "small"),
    ("snake", "snakes", 0, "hiss", "hisses", "in the grass", "mice", ["swim"], False, None),
    ("mouse", "mice", 4, "squeak", "squeaks", "in a field", "seeds", ["run", "climb"], False, "small"),
    ("rabbit", "rabbits", 4, None, None, "in a field", "carrots", ["run", "jump"], False, "small"),
    ("bear", "bears", 4, None, "growls", "in the forest", "berries", ["climb", "swim"], False, "big"),
    ("wolf", "wolves", 4, None, "howls", "in the forest", "meat", ["run"], False, None),
    ("fox", "foxes", 4, None, None, "in the forest", "mice", ["run", "jump"], False, "small"),
    ("penguin", "penguins", 2, None, None, "on the ice", "fish", ["swim"], False, None),
    ("camel", "camels", 4, None, None, "in the desert", "plants", ["walk"], False, "big"),
    ("goat", "goats", 4, "baa", "bleats", "on a farm", "grass", ["climb", "jump"], False, None),
    ("deer", "deer", 4, None, None, "in the forest", "leaves", ["run", "jump"], False, None),
    ("crab", "crabs", 10, None, None, "on the beach", "small fish", ["swim"], False, "small"),
    ("butterfly", "butterflies", 6, None, None, "in the garden", "nectar", ["fly"], True, "small"),
    ("turtle", "turtles", 4, None, None, "in the sea", "plants", ["swim"], False, None),
    ("parrot", "parrots", 2, None, "talks", "in the jungle", "fruit", ["fly"], True, "small"),
]
ANIMAL = {a[0]: a for a in ANIMALS}

ZOO_ANIMALS = ["lion", "tiger", "elephant", "monkey", "penguin", "camel", "parrot", "bear", "wolf"]
FARM_ANIMALS = ["cow", "horse", "sheep", "pig", "chicken", "goat", "duck", "dog", "cat"]
FOREST_ANIMALS = ["owl", "bear", "deer", "fox", "wolf", "bird", "rabbit"]
POND_ANIMALS = ["duck", "frog", "fish"]
PETS = ["dog", "cat", "rabbit", "fish", "mouse", "parrot", "turtle"]
PET_FOOD = {"dog": "meat", "cat": "fish", "rabbit": "carrots", "fish": "small plants",
            "mouse": "seeds", "parrot": "seeds", "turtle": "plants"}
PET_LOOKS = {"dog": ["brown", "black", "white", "big", "small"], "cat": ["black", "white", "grey", "orange", "small"],
             "rabbit": ["white", "grey", "brown", "small"], "fish": ["orange", "small"],
             "mouse": ["grey", "white", "small"], "parrot": ["green", "red", "blue"],
             "turtle": ["green", "small", "slow"]}
PET_NAMES = ["Rex", "Spot", "Bella", "Coco", "Milo", "Luna", "Fluffy", "Pip", "Sunny", "Buddy"]

COLOURS = ["red", "blue", "green", "yellow", "orange", "purple", "pink", "brown", "black", "white", "grey"]

# (singular phrase, plural phrase or None, colour)
# Sentence forms: "<Sg> is <colour>." and "<Pl> are <colour>."
COLOURED_THINGS = [
    ("the sky", None, "blue"),
    ("the sea", None, "blue"),
    ("grass", None, "green"),
    ("snow", None, "white"),
    ("milk", None, "white"),
    ("coal", None, "black"),
    ("chocolate", None, "brown"),
    ("the sun", None, "yellow"),
    ("a banana", "bananas", "yellow"),
    ("a lemon", "lemons", "yellow"),
    ("a strawberry", "strawberries", "red"),
    ("a tomato", "tomatoes", "red"),
    ("a cherry", "cherries", "red"),
    ("an orange", "oranges", "orange"),
    ("a carrot", "carrots", "orange"),
    ("a pumpkin", "pumpkins", "orange"),
    ("a leaf", "leaves", "green"),
    ("a cucumber", "cucumbers", "green"),
    ("a frog", "frogs", "green"),
    ("a cloud", "clouds", "white"),
    ("a crow", "crows", "black"),
    ("a plum", "plums", "purple"),
    ("a flamingo", "flamingos", "pink"),
]

# Colours that are clearly wrong for things of a given colour (for yes/no questions).
WRONG_COLOURS = {"blue": ["red", "yellow", "pink", "orange"], "green": ["purple", "pink"],
                 "white": ["purple", "green", "orange"], "black": ["pink", "yellow", "green", "orange"],
                 "brown": ["green", "blue", "pink"], "yellow": ["blue", "purple", "pink"],
                 "red": ["blue", "grey"], "orange": ["blue", "pink", "black"],
                 "purple": ["orange", "white"], "pink": ["blue", "green", "black"]}

OPPOSITES = [
    ("hot", "cold"), ("big", "small"), ("tall", "short"), ("fast", "slow"),
    ("happy", "sad"), ("up", "down"), ("open", "closed"), ("light", "dark"),
    ("wet", "dry"), ("full", "empty"), ("hard", "soft"), ("loud", "quiet"),
    ("early", "late"), ("rich", "poor"), ("strong", "weak"), ("thick", "thin"),
    ("clean", "dirty"), ("good", "bad"), ("push", "pull"), ("day", "night"),
    ("black", "white"), ("first", "last"), ("near", "far"), ("old", "new"),
    ("win", "lose"), ("yes", "no"), ("true", "false"), ("inside", "outside"),
    ("above", "below"), ("before", "after"), ("front", "back"), ("high", "low"),
    ("sweet", "sour"), ("on", "off"), ("left", "right"), ("north", "south"),
    ("east", "west"), ("summer", "winter"), ("question", "answer"), ("buy", "sell"),
    ("give", "take"), ("come", "go"), ("laugh", "cry"), ("always", "never"),
    ("smooth", "rough"), ("cheap", "expensive"), ("wide", "narrow"), ("deep", "shallow"),
    ("awake", "asleep"), ("start", "stop"),
]
OPPOSITE = {}
for _a, _b in OPPOSITES:
    OPPOSITE[_a] = _b
    OPPOSITE[_b] = _a

# Adjective pairs that can describe nouns in "The <noun> is <adj>." sentences.
ADJ_NOUNS = [
    (("hot", "cold"), ["soup", "tea", "water", "room", "bath"]),
    (("big", "small"), ["house", "box", "dog", "garden", "ball"]),
    (("tall", "short"), ["tree", "tower", "man", "woman", "wall"]),
    (("fast", "slow"), ["car", "train", "horse", "boat", "bus"]),
    (("happy", "sad"), ["girl", "boy", "child", "teacher", "baby"]),
    (("open", "closed"), ["door", "window", "shop", "box", "gate"]),
    (("light", "dark"), ["room", "kitchen", "street", "hall"]),
    (("wet", "dry"), ["towel", "ground", "shirt", "road", "grass"]),
    (("full", "empty"), ["cup", "box", "bag", "glass", "bottle"]),
    (("hard", "soft"), ["bed", "chair", "bread", "pillow", "ball"]),
    (("loud", "quiet"), ["room", "street", "music", "class", "dog"]),
    (("clean", "dirty"), ["room", "shirt", "car", "floor", "plate"]),
    (("old", "new"), ["car", "house", "book", "coat", "bike"]),
    (("thick", "thin"), ["book", "wall", "coat", "rope"]),
    (("strong", "weak"), ["man", "horse", "rope", "wind"]),
    (("rich", "poor"), ["king", "man", "woman", "town"]),
    (("wide", "narrow"), ["road", "river", "door", "street"]),
    (("deep", "shallow"), ["river", "lake", "pool", "hole"]),
    (("sweet", "sour"), ["apple", "cake", "juice", "lemon"]),
    (("smooth", "rough"), ["stone", "road", "table", "wall"]),
    (("cheap", "expensive"), ["car", "shirt", "book", "hat"]),
]

DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July",
          "August", "September", "October", "November", "December"]
MONTH_DAYS = [31, None, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

# name, extra fact sentence(s)
PLANETS = [
    ("Mercury", ["Mercury is the smallest planet.", "Mercury is the closest planet to the Sun."]),
    ("Venus", ["Venus is the hottest planet."]),
    ("Earth", ["Earth is our home.", "Earth has one moon.", "Earth has water and air."]),
    ("Mars", ["Mars is called the red planet.", "Mars has two moons."]),
    ("Jupiter", ["Jupiter is the largest planet."]),
    ("Saturn", ["Saturn has big rings."]),
    ("Uranus", ["Uranus is very cold."]),
    ("Neptune", ["Neptune is the farthest planet from the Sun."]),
]
PLANET_NAMES = [p[0] for p in PLANETS]

# (subject phrase, count, noun plural): "<Subject> has <count> <nouns>."
# The first six also read "There are <count> <nouns> in <subject>." (IN_COUNT_FACTS).
COUNT_FACTS = [
    ("a week", 7, "days"), ("a year", 12, "months"), ("a day", 24, "hours"),
    ("an hour", 60, "minutes"), ("a minute", 60, "seconds"), ("a dozen", 12, "things"),
    ("a hand", 5, "fingers"),
    ("a foot", 5, "toes"), ("a triangle", 3, "sides"), ("a square", 4, "sides"),
    ("a rectangle", 4, "sides"), ("a pentagon", 5, "sides"), ("a hexagon", 6, "sides"),
    ("a person", 2, "eyes"), ("a bicycle", 2, "wheels"),
    ("a car", 4, "wheels"), ("a tricycle", 3, "wheels"),
]
IN_COUNT_FACTS = COUNT_FACTS[:6]

NUM_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
             "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
             "seventeen", "eighteen", "nineteen", "twenty"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
ORDINALS = ["zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh",
            "eighth", "ninth", "tenth", "eleventh", "twelfth"]


def num_word(n):
    if n <= 20:
        return NUM_WORDS[n]
    if n < 100:
        t, u = divmod(n, 10)
        return TENS[t] if u == 0 else TENS[t] + "-" + NUM_WORDS[u]
    return str(n)


# People: (name, "he"/"she")
PEOPLE = [
    ("Tom", "he"), ("Anna", "she"), ("Ben", "he"), ("Lucy", "she"), ("Sam", "he"),
    ("Mia", "she"), ("Max", "he"), ("Emma", "she"), ("Leo", "he"), ("Lily", "she"),
    ("Jack", "he"), ("Sara", "she"), ("Noah", "he"), ("Ella", "she"), ("Omar", "he"),
    ("Nina", "she"), ("Paul", "he"), ("Rosa", "she"), ("Ravi", "he"), ("Maya", "she"),
    ("Ken", "he"), ("Amy", "she"), ("Dan", "he"), ("Zoe", "she"), ("Ali", "he"),
    ("Eva", "she"), ("Hugo", "he"), ("Ivy", "she"), ("Luis", "he"), ("Lena", "she"),
    ("Kofi", "he"), ("Yuki", "she"), ("Felix", "he"), ("Hana", "she"), ("Ivan", "he"),
    ("Ada", "she"),
]
PRON = {
    "he": {"sub": "he", "obj": "him", "pos": "his"},
    "she": {"sub": "she", "obj": "her", "pos": "her"},
}
RELATIVES = ["mother", "father", "sister", "brother", "grandmother", "grandfather",
             "friend", "teacher", "aunt", "uncle"]

# Objects people own (singular, plural)
OBJECTS = [("ball", "balls"), ("kite", "kites"), ("hat", "hats"), ("car", "cars"),
           ("bike", "bikes"), ("book", "books"), ("cup", "cups"), ("box", "boxes"),
           ("bag", "bags"), ("coat", "coats"), ("shirt", "shirts"), ("umbrella", "umbrellas"),
           ("pencil", "pencils"), ("boat", "boats"), ("chair", "chairs"), ("flower", "flowers"),
           ("scarf", "scarves"), ("toy train", "toy trains")]

# Countable foods: (singular, plural, taste)
FRUITS = [("apple", "apples", "sweet"), ("banana", "bananas", "sweet"),
          ("orange", "oranges", "sweet"), ("pear", "pears", "sweet"),
          ("lemon", "lemons", "sour"), ("plum", "plums", "sweet"),
          ("cherry", "cherries", "sweet"), ("strawberry", "strawberries", "sweet"),
          ("peach", "peaches", "sweet"), ("grape", "grapes", "sweet")]
VEGETABLES = [("carrot", "carrots"), ("tomato", "tomatoes"), ("potato", "potatoes"),
              ("onion", "onions"), ("cucumber", "cucumbers"), ("pumpkin", "pumpkins")]
# Meals: (phrase with article/mass, adjective)
MEALS = [("a bowl of soup", "hot"), ("a sandwich", "good"), ("some rice", "warm"),
         ("a piece of cake", "sweet"), ("some bread", "soft"), ("an egg", "good"),
         ("a plate of noodles", "hot"), ("some cheese", "good"), ("a salad", "fresh"),
         ("a pizza", "hot"), ("some cookies", "sweet"), ("some fish", "good")]
DRINKS = ["a glass of milk", "a cup of tea", "a glass of water", "a glass of juice",
          "a cup of hot chocolate"]

PLACES = {
    # place: activities (third person present, plural "they" form)
    "park": ("plays football", "play football"),
    "library": ("reads a book", "read books"),
    "market": ("buys some fruit", "buy some fruit"),
    "beach": ("swims in the sea", "swim in the sea"),
    "zoo": ("looks at the animals", "look at the animals"),
    "school": ("learns to read", "learn to read"),
    "garden": ("plants flowers", "plant flowers"),
    "kitchen": ("makes a cake", "make a cake"),
    "lake": ("watches the ducks", "watch the ducks"),
    "river": ("watches the boats", "watch the boats"),
    "mountain": ("walks up the hill", "walk up the hill"),
    "bakery": ("buys some bread", "buy some bread"),
    "farm": ("feeds the animals", "feed the animals"),
    "forest": ("looks for mushrooms", "look for mushrooms"),
    "shop": ("buys a new hat", "buy a new hat"),
}
PLACE_NAMES = list(PLACES.keys())

# weather -> (activities, extra sentences)
WEATHER = {
    "sunny": (["goes to the beach", "plays in the park", "rides {pos} bike", "has a picnic in the garden"],
              ["The sun is bright.", "The sky is blue.", "It is warm outside."]),
    "rainy": (["takes an umbrella", "stays at home and reads a book", "wears a raincoat", "jumps in the puddles"],
              ["The ground is wet.", "The sky is grey.", "The rain falls all day."]),
    "snowy": (["makes a snowman", "wears a warm hat", "plays in the snow"],
              ["Everything is white.", "The snow is soft and cold."]),
    "windy": (["flies a kite", "holds {pos} hat", "wears a scarf"],
              ["The trees move in the wind.", "The wind is strong."]),
    "cold": (["wears a warm coat", "drinks hot tea", "stays near the fire"],
             ["The water in the pond is ice.", "It is cold outside."]),
    "hot": (["drinks cold water", "swims in the lake", "eats an ice cream", "sits in the shade"],
            ["The sun is very hot.", "It is hot outside."]),
    "cloudy": (["takes a walk", "reads in the garden", "visits {pos} friend"],
               ["The sky is grey.", "There are many clouds in the sky."]),
}
WEATHER_NAMES = list(WEATHER.keys())

SIMPLE_VERBS_INTRANS = ["sleeps", "runs", "sings", "laughs", "walks", "smiles", "reads",
                        "jumps", "swims", "dances", "waits", "sits down", "cooks", "plays"]

FEELINGS = ["happy", "tired", "hungry", "sad", "excited", "cold", "busy"]

# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


class Gen:
    """All randomness of one output file goes through this object."""

    def __init__(self, seed):
        self.rng = random.Random(seed)

    def choice(self, seq):
        return seq[self.rng.randrange(len(seq))]

    def randint(self, lo, hi):
        return lo + self.rng.randrange(hi - lo + 1)

    def chance(self, p):
        return self.rng.random() < p

    def sample(self, seq, k):
        pool = list(seq)
        out = []
        for _ in range(k):
            out.append(pool.pop(self.rng.randrange(len(pool))))
        return out

    def shuffle(self, lst):
        self.rng.shuffle(lst)

    def weighted(self, items):
        """items: list of (weight, value)."""
        total = sum(w for w, _ in items)
        x = self.rng.random() * total
        for w, v in items:
            x -= w
            if x < 0:
                return v
        return items[-1][1]

    def person(self, exclude=()):
        while True:
            p = self.choice(PEOPLE)
            if p[0] not in exclude:
                return p


def a_an(word):
    return ("an " if word[0].lower() in "aeiou" else "a ") + word


def cap(s):
    return s[0].upper() + s[1:] if s else s


def join_and(items):
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def legs_phrase(n):
    if n == 0:
        return "no legs"
    return num_word(n) + (" leg" if n == 1 else " legs")


def bare(phrase):
    """'a banana' -> 'banana', 'the sky' -> 'sky', 'snow' -> 'snow'."""
    for art in ("a ", "an ", "the "):
        if phrase.startswith(art):
            return phrase[len(art):]
    return phrase


def word_item(w):
    """Format a single-word answer: 'Blue.'"""
    return cap(w) + "."


def list_items(words):
    return cap(", ".join(words)) + "."


# --------------------------------------------------------------------------------------
# Category: story (simple sentences and small stories)
# --------------------------------------------------------------------------------------


def story_weather(g):
    name, pr = g.person()
    P = PRON[pr]
    w = g.choice(WEATHER_NAMES)
    acts, extras = WEATHER[w]
    act = g.choice(acts).format(pos=P["pos"])
    opening = g.choice(["It is {w} today.", "Today the weather is {w}.", "The day is {w}."]).format(w=w)
    s = [opening, "%s %s." % (name, act)]
    if g.chance(0.7):
        s.append(g.choice(extras))
    if g.chance(0.5):
        s.append("%s is %s." % (cap(P["sub"]), g.choice(["happy", "glad", "very happy"])))
    return " ".join(s[:4])


def story_animal_visit(g):
    name, pr = g.person()
    P = PRON[pr]
    place, pool = g.choice([("farm", FARM_ANIMALS), ("zoo", ZOO_ANIMALS),
                            ("forest", FOREST_ANIMALS), ("lake", POND_ANIMALS)])
    an = ANIMAL[g.choice(pool)]
    s = ["%s goes to the %s." % (name, place)]
    if g.chance(0.5):
        s.append("%s sees %s." % (cap(P["sub"]), a_an(an[0])))
    else:
        s.append("There %s sees %s %s." % (P["sub"], a_an(g.choice(["big", "small", "brown", "white", "black"]) if an[9] is None else an[9]), an[0]))
    if an[4]:
        if an[3] and g.chance(0.5):
            s.append('The %s says "%s".' % (an[0], an[3]))
        else:
            s.append("The %s %s." % (an[0], an[4]))
    else:
        s.append("The %s eats %s." % (an[0], an[6]))
    if g.chance(0.5):
        s.append("%s %s." % (name, g.choice(["laughs", "smiles", "is happy", "waves at it"])))
    return " ".join(s)


def story_food(g):
    name, pr = g.person()
    P = PRON[pr]
    s = []
    if g.chance(0.5):
        f = g.choice(FRUITS)
        s.append("%s is hungry." % name)
        s.append("%s eats %s." % (cap(P["sub"]), a_an(f[0])))
        s.append("The %s is %s." % (f[0], f[2]))
    else:
        m, adj = g.choice(MEALS)
        s.append("%s %s." % (name, g.choice(["is hungry", "comes home", "sits at the table"])))
        s.append("%s eats %s." % (cap(P["sub"]), m))
        s.append("It is %s." % adj)
    if g.chance(0.6):
        s.append("Then %s drinks %s." % (P["sub"], g.choice(DRINKS)))
    return " ".join(s)


def story_gift(g):
    name, pr = g.person()
    name2, pr2 = g.person(exclude=(name,))
    P = PRON[pr]
    obj = g.choice(OBJECTS)[0]
    col = g.choice(COLOURS)
    s = ["%s has %s %s." % (name, a_an(col), obj),
         "%s gives it to %s." % (cap(P["sub"]), name2)]
    if g.chance(0.7):
        s.append("%s %s." % (name2, g.choice(["is very happy", "says thank you", "smiles"])))
    return " ".join(s)


def story_place(g):
    name, pr = g.person()
    P = PRON[pr]
    place = g.choice(PLACE_NAMES)
    act_sg, act_pl = PLACES[place]
    if g.chance(0.5):
        rel = g.choice(RELATIVES)
        day = g.choice(DAYS)
        s = ["On %s, %s goes to the %s with %s %s." % (day, name, place, P["pos"], rel),
             "They %s." % act_pl]
        if g.chance(0.6):
            s.append("Then they go home.")
    else:
        s = ["%s goes to the %s." % (name, place), "%s %s." % (cap(P["sub"]), act_sg)]
        if g.chance(0.6):
            s.append("%s is %s." % (cap(P["sub"]), g.choice(FEELINGS)))
    return " ".join(s)


def story_market_past(g):
    name, pr = g.person()
    P = PRON[pr]
    items = [x[1] for x in g.sample(FRUITS + VEGETABLES, g.randint(2, 3))]
    s = ["Yesterday %s went to the %s." % (name, g.choice(["market", "shop"])),
         "%s bought %s." % (cap(P["sub"]), join_and(items))]
    if g.chance(0.7):
        s.append(g.choice(["Then %s went home." % P["sub"],
                           "Then %s made a salad." % P["sub"],
                           "%s was happy." % cap(P["sub"])]))
    return " ".join(s)


def story_pet(g):
    name, pr = g.person()
    pet = g.choice(PETS)
    pname = g.choice(PET_NAMES)
    s = ["%s has %s called %s." % (name, a_an(pet), pname),
         "%s is %s." % (pname, g.choice(PET_LOOKS[pet]))]
    s.append("Every day, %s gives %s %s." % (name, pname, PET_FOOD[pet]))
    if g.chance(0.4):
        s.append("%s loves %s." % (name, pname))
    return " ".join(s)


def story_morning(g):
    name, pr = g.person()
    P = PRON[pr]
    h = g.randint(6, 9)
    s = ["%s wakes up at %s o'clock." % (name, num_word(h)),
         "%s eats %s for breakfast." % (cap(P["sub"]), g.choice(["an egg", "some bread", "an apple", "some rice", "a banana"]))]
    if g.chance(0.8):
        s.append("Then %s %s." % (P["sub"], g.choice(["goes to school", "walks to work", "takes the bus", "feeds the cat", "reads a book"])))
    return " ".join(s)


def simple_sentence(g):
    k = g.randint(0, 9)
    if k == 0:
        name, _ = g.person()
        return "%s %s." % (name, g.choice(SIMPLE_VERBS_INTRANS))
    if k == 1:
        an = g.choice(ANIMALS)
        if an[4]:
            return "The %s %s." % (an[0], an[4])
        return "The %s lives %s." % (an[0], an[5])
    if k == 2:
        name, _ = g.person()
        return "%s likes %s." % (name, g.choice(FRUITS)[1])
    if k == 3:
        obj = g.choice(OBJECTS)[0]
        return "The %s is %s." % (obj, g.choice(COLOURS))
    if k == 4:
        name, _ = g.person()
        return "%s is %s." % (name, g.choice(FEELINGS))
    if k == 5:
        (adjs, nouns) = g.choice(ADJ_NOUNS)
        return "The %s is %s." % (g.choice(nouns), g.choice(adjs))
    if k == 6:
        name, _ = g.person()
        obj = g.choice(OBJECTS)[0]
        return "%s has %s %s." % (name, a_an(g.choice(COLOURS)), obj)
    if k == 7:
        name, _ = g.person()
        return "%s is at the %s." % (name, g.choice(PLACE_NAMES))
    if k == 8:
        an = g.choice(ANIMALS)
        return "The %s eats %s." % (an[0], an[6])
    name, _ = g.person()
    name2, _ = g.person(exclude=(name,))
    return "%s %s %s." % (name, g.choice(["helps", "calls", "sees", "meets", "visits", "waits for"]), name2)


def story_simple(g):
    return " ".join(simple_sentence(g) for _ in range(g.randint(3, 5)))


def story_doc(g):
    n_par = 1 if g.chance(0.7) else 2
    gens = [(3, story_weather), (3, story_animal_visit), (2, story_food), (2, story_gift),
            (3, story_place), (1, story_market_past), (2, story_pet), (1, story_morning),
            (2, story_simple)]
    return "\n".join(g.weighted(gens)(g) for _ in range(n_par))


# --------------------------------------------------------------------------------------
# Category: fact
# --------------------------------------------------------------------------------------


def fact_country(g, c):
    country, capital, cont, lang = c
    forms = [
        "The capital of %s is %s." % (country, capital),
        "%s is the capital of %s." % (capital, country),
        "%s is a country in %s." % (country, cont),
        "%s is in %s." % (country, cont),
        "%s is a city in %s. It is the capital." % (capital, country),
        "Country: %s. Capital: %s." % (country, capital),
    ]
    if lang:
        forms.append("People in %s speak %s." % (country, lang))
    return g.choice(forms)


def fact_animal(g, an):
    name, pl, legs, sw, sv, home, food, abil, fly, size = an
    forms = ["%s live %s." % (cap(pl), home), "%s lives %s." % (cap(a_an(name)), home),
             "%s eat %s." % (cap(pl), food), "%s eats %s." % (cap(a_an(name)), food),
             "%s can %s." % (cap(pl), g.choice(abil))]
    if legs is not None:
        forms += ["%s has %s." % (cap(a_an(name)), legs_phrase(legs)),
                  "%s have %s." % (cap(pl), legs_phrase(legs))]
    if sw:
        forms.append('%s says "%s".' % (cap(a_an(name)), sw))
    if sv:
        forms.append("The %s %s." % (name, sv))
    if fly is False:
        forms.append("%s cannot fly." % cap(pl))
    if size:
        forms.append("%s is %s animal." % (cap(a_an(name)), a_an(size)))
    return g.choice(forms)


def fact_colour(g, t):
    sg, pl, col = t
    forms = ["%s is %s." % (cap(sg), col)]
    if pl:
        forms.append("%s are %s." % (cap(pl), col))
        forms.append("The colour of %s is %s." % (pl, col))
    else:
        forms.append("The colour of %s is %s." % (sg, col))
    return g.choice(forms)


def fact_opposite(g, pair):
    x, y = pair if g.chance(0.5) else (pair[1], pair[0])
    return g.choice(["The opposite of %s is %s." % (x, y),
                     "%s and %s are opposites." % (cap(x), y),
                     '"%s" is the opposite of "%s".' % (cap(x), y)])


def fact_day(g):
    i = g.randint(0, 6)
    nxt, prv = DAYS[(i + 1) % 7], DAYS[(i - 1) % 7]
    return g.choice([
        "The day after %s is %s." % (DAYS[i], nxt),
        "The day before %s is %s." % (DAYS[i], prv),
        "%s comes after %s." % (nxt, DAYS[i]),
        "%s is the %s day of the week." % (DAYS[i], ORDINALS[i + 1]),
        "There are seven days in a week.",
        "Saturday and Sunday are the weekend.",
        "The days of the week are %s." % join_and(DAYS),
    ])


def fact_month(g):
    i = g.randint(0, 11)
    forms = [
        "%s is the %s month of the year." % (MONTHS[i], ORDINALS[i + 1]),
        "The month after %s is %s." % (MONTHS[i], MONTHS[(i + 1) % 12]),
        "The month before %s is %s." % (MONTHS[i], MONTHS[(i - 1) % 12]),
        "There are twelve months in a year.",
        "The year starts in January and ends in December.",
    ]
    if MONTH_DAYS[i]:
        forms.append("%s has %s days." % (MONTHS[i], num_word(MONTH_DAYS[i])))
    else:
        forms.append("February has twenty-eight days, or twenty-nine in a leap year.")
    return g.choice(forms)


def fact_planet(g):
    i = g.randint(0, 7)
    name, extra = PLANETS[i]
    forms = ["%s is the %s planet from the Sun." % (name, ORDINALS[i + 1]),
             "There are eight planets around the Sun.",
             "The planets in order are %s." % join_and(PLANET_NAMES),
             g.choice(extra)]
    if i < 7:
        forms.append("The planet after %s is %s." % (name, PLANET_NAMES[i + 1]))
    return g.choice(forms)


def fact_number(g):
    k = g.randint(0, 4)
    if k == 0:
        n = g.randint(0, 19)
        return "%s comes after %s." % (cap(num_word(n + 1)), num_word(n))
    if k == 1:
        n = g.randint(0, 20)
        return "%d is %s number." % (n, "an even" if n % 2 == 0 else "an odd")
    if k == 2:
        n = g.randint(0, 99)
        return "%d is written as %s." % (n, num_word(n))
    if k == 3:
        subj, n, noun = g.choice(COUNT_FACTS)
        return "%s has %s %s." % (cap(subj), num_word(n), noun)
    subj, n, noun = g.choice(IN_COUNT_FACTS)
    return "There are %s %s in %s." % (num_word(n), noun, subj)


def fact_doc(g):
    topic = g.weighted([(4, "country"), (5, "animal"), (3, "colour"), (2, "opposite"),
                        (1.5, "day"), (1.5, "month"), (1.5, "planet"), (1.5, "number"),
                        (1, "table")])
    n = g.randint(2, 5)
    if topic == "country":
        if g.chance(0.5):  # several facts about one country
            c = g.choice(COUNTRIES)
            facts = []
            for _ in range(n):
                f = fact_country(g, c)
                if f not in facts:
                    facts.append(f)
        else:
            facts = [fact_country(g, c) for c in g.sample(COUNTRIES, n)]
    elif topic == "animal":
        if g.chance(0.6):
            an = g.choice(ANIMALS)
            facts = []
            for _ in range(n + 1):
                f = fact_animal(g, an)
                if f not in facts:
                    facts.append(f)
        else:
            facts = [fact_animal(g, an) for an in g.sample(ANIMALS, n)]
    elif topic == "colour":
        facts = [fact_colour(g, t) for t in g.sample(COLOURED_THINGS, n)]
    elif topic == "opposite":
        facts = [fact_opposite(g, p) for p in g.sample(OPPOSITES, n)]
    elif topic in ("day", "month", "planet", "number"):
        fn = {"day": fact_day, "month": fact_month, "planet": fact_planet, "number": fact_number}[topic]
        facts = []
        for _ in range(n):
            f = fn(g)
            if f not in facts:
                facts.append(f)
    else:  # a small table, one row per line
        kind = g.choice(["capital", "legs", "colour"])
        if kind == "capital":
            rows = ["%s: %s" % (c[0], c[1]) for c in g.sample(COUNTRIES, n + 1)]
            head = "Countries and their capitals:"
        elif kind == "legs":
            rows = ["%s: %d" % (an[0], an[2]) for an in g.sample([x for x in ANIMALS if x[2] is not None], n + 1)]
            head = "Animals and their number of legs:"
        else:
            rows = ["%s: %s" % (bare(t[0]), t[2]) for t in g.sample(COLOURED_THINGS, n + 1)]
            head = "Things and their colours:"
        return head + "\n" + "\n".join(rows)
    sep = "\n" if g.chance(0.35) else " "
    return sep.join(facts)


# --------------------------------------------------------------------------------------
# Category: qa
# --------------------------------------------------------------------------------------


def qa_fact(g):
    k = g.weighted([(4, "capital"), (1, "country_of"), (1, "continent"), (1, "language"),
                    (2, "legs"), (2, "sound"), (2, "home"), (1, "eat"), (2, "fly"), (3, "colour"),
                    (2, "opposite"), (1.5, "day"), (1.5, "month"), (1.5, "planet"), (1.5, "count")])
    if k == "capital":
        c = g.choice(COUNTRIES)
        return ("What is the capital of %s?" % c[0], "The capital of %s is %s." % (c[0], c[1]))
    if k == "country_of":
        c = g.choice(COUNTRIES)
        return ("%s is the capital of which country?" % c[1], "%s is the capital of %s." % (c[1], c[0]))
    if k == "continent":
        c = g.choice(COUNTRIES)
        return ("Where is %s?" % c[0], "%s is in %s." % (c[0], c[2]))
    if k == "language":
        c = g.choice([x for x in COUNTRIES if x[3]])
        return ("What language do people speak in %s?" % c[0], "People in %s speak %s." % (c[0], c[3]))
    if k == "legs":
        an = g.choice([x for x in ANIMALS if x[2] is not None])
        return ("How many legs does %s have?" % a_an(an[0]), "%s has %s." % (cap(a_an(an[0])), legs_phrase(an[2])))
    if k == "sound":
        an = g.choice([x for x in ANIMALS if x[3]])
        return ("What does %s say?" % a_an(an[0]), '%s says "%s".' % (cap(a_an(an[0])), an[3]))
    if k == "home":
        an = g.choice(ANIMALS)
        return ("Where does %s live?" % a_an(an[0]), "%s lives %s." % (cap(a_an(an[0])), an[5]))
    if k == "eat":
        an = g.choice(ANIMALS)
        return ("What do %s eat?" % an[1], "%s eat %s." % (cap(an[1]), an[6]))
    if k == "fly":
        an = g.choice([x for x in ANIMALS if x[8] is not None])
        if an[8]:
            return ("Can %s fly?" % a_an(an[0]), "Yes, %s can fly." % a_an(an[0]))
        return ("Can %s fly?" % a_an(an[0]), "No, %s cannot fly." % a_an(an[0]))
    if k == "colour":
        t = g.choice(COLOURED_THINGS)
        if t[1] and g.chance(0.5):
            return ("What colour are %s?" % t[1], "%s are %s." % (cap(t[1]), t[2]))
        return ("What colour is %s?" % t[0], "%s is %s." % (cap(t[0]), t[2]))
    if k == "opposite":
        x, y = g.choice(OPPOSITES)
        if g.chance(0.5):
            x, y = y, x
        return ("What is the opposite of %s?" % x, "The opposite of %s is %s." % (x, y))
    if k == "day":
        i = g.randint(0, 6)
        if g.chance(0.5):
            return ("What day comes after %s?" % DAYS[i], "The day after %s is %s." % (DAYS[i], DAYS[(i + 1) % 7]))
        return ("What day comes before %s?" % DAYS[i], "The day before %s is %s." % (DAYS[i], DAYS[(i - 1) % 7]))
    if k == "month":
        i = g.randint(0, 11)
        if g.chance(0.5):
            return ("What month comes after %s?" % MONTHS[i], "The month after %s is %s." % (MONTHS[i], MONTHS[(i + 1) % 12]))
        return ("Which month is the %s month of the year?" % ORDINALS[i + 1],
                "%s is the %s month of the year." % (MONTHS[i], ORDINALS[i + 1]))
    if k == "planet":
        i = g.randint(0, 7)
        j = g.randint(0, 2)
        if j == 0:
            return ("Which planet is the %s planet from the Sun?" % ORDINALS[i + 1],
                    "%s is the %s planet from the Sun." % (PLANET_NAMES[i], ORDINALS[i + 1]))
        if j == 1:
            return ("Which is the largest planet?", "Jupiter is the largest planet.")
        return ("How many planets are there around the Sun?", "There are eight planets around the Sun.")
    subj, n, noun = g.choice(COUNT_FACTS)
    if (subj, n, noun) in IN_COUNT_FACTS and g.chance(0.5):
        return ("How many %s are there in %s?" % (noun, subj), "There are %s %s in %s." % (num_word(n), noun, subj))
    return ("How many %s does %s have?" % (noun, subj), "%s has %s %s." % (cap(subj), num_word(n), noun))


def qa_story(g):
    """A short story followed by questions about it (answers from the story)."""
    name, pr = g.person()
    P = PRON[pr]
    k = g.randint(0, 3)
    if k == 0:
        name2, _ = g.person(exclude=(name,))
        obj = g.choice(OBJECTS)[0]
        col = g.choice(COLOURS)
        story = "%s has %s %s. %s gives it to %s." % (name, a_an(col), obj, cap(P["sub"]), name2)
        qs = [("What colour is %s's %s?" % (name, obj), "%s's %s is %s." % (name, obj, col)),
              ("Who has the %s now?" % obj, "%s has the %s now." % (name2, obj))]
    elif k == 1:
        pet = g.choice(PETS)
        pname = g.choice(PET_NAMES)
        story = "%s has %s called %s. Every day, %s gives %s %s." % (name, a_an(pet), pname, name, pname, PET_FOOD[pet])
        qs = [("What is the name of %s's %s?" % (name, pet), "The name of %s's %s is %s." % (name, pet, pname)),
              ("What does %s eat?" % pname, "%s eats %s." % (pname, PET_FOOD[pet]))]
    elif k == 2:
        place = g.choice(PLACE_NAMES)
        day = g.choice(DAYS)
        rel = g.choice(RELATIVES)
        story = "On %s, %s goes to the %s with %s %s. They %s." % (day, name, place, P["pos"], rel, PLACES[place][1])
        qs = [("Where does %s go on %s?" % (name, day), "%s goes to the %s." % (name, place)),
              ("Who goes with %s?" % name, "%s %s goes with %s." % (cap(P["pos"]), rel, P["obj"])),
              ("On which day does %s go to the %s?" % (name, place), "%s goes to the %s on %s." % (name, place, day))]
    else:
        w = g.choice(WEATHER_NAMES)
        act = g.choice(WEATHER[w][0]).format(pos=P["pos"])
        story = "It is %s today. %s %s." % (w, name, act)
        qs = [("What is the weather like today?", "It is %s today." % w),
              ("What does %s do?" % name, "%s %s." % (name, act))]
    chosen = g.sample(qs, g.randint(1, len(qs)))
    return story + "\n" + "\n".join("Question: %s\nAnswer: %s" % qa for qa in chosen)


def qa_doc(g):
    if g.chance(0.25):
        return qa_story(g)
    n = g.weighted([(6, 1), (3, 2), (1, 3)])
    pairs = []
    for _ in range(n):
        q, a = qa_fact(g)
        pairs.append("Question: %s\nAnswer: %s" % (q, a))
    return "\n".join(pairs)


# --------------------------------------------------------------------------------------
# Category: instruction
# --------------------------------------------------------------------------------------

ANIMAL_NAMES = [a[0] for a in ANIMALS]
FRUIT_NAMES = [f[0] for f in FRUITS]
SPELL_WORDS = ["cat", "dog", "sun", "tree", "book", "fish", "milk", "ball", "red", "blue",
               "green", "apple", "house", "bird", "cake", "rain", "snow", "hat", "moon", "star",
               "lion", "frog", "door", "boat", "duck", "pig", "cow", "bear", "egg", "tea"]
PLURALS = [(a[0], a[1]) for a in ANIMALS] + [(f[0], f[1]) for f in FRUITS] + \
          [o for o in OBJECTS if " " not in o[0]] + \
          [("child", "children"), ("man", "men"), ("woman", "women"), ("foot", "feet"),
           ("tooth", "teeth"), ("person", "people"), ("baby", "babies"), ("city", "cities")]
CATEGORY_WORDS = {
    "colour": COLOURS,
    "animal": ANIMAL_NAMES,
    "fruit": FRUIT_NAMES,
    "day of the week": DAYS,
    "month": MONTHS,
    "planet": PLANET_NAMES,
    "country": [c[0] for c in COUNTRIES],
    "vegetable": [v[0] for v in VEGETABLES],
}
CATEGORY_PLURAL = {"colour": "colours", "animal": "animals", "fruit": "fruits",
                   "day of the week": "days of the week", "month": "months",
                   "planet": "planets", "country": "countries", "vegetable": "vegetables"}


def instr_pair(g):
    k = g.weighted([(2, "name"), (2, "list"), (2, "opposite"), (2, "opp_sentence"), (2, "sort_num"),
                    (1, "sort_words"), (1.5, "count_letters"), (1.5, "count_words"), (1, "count_items"),
                    (2, "capitals"), (2, "complete"), (2, "yesno"), (1, "plural"), (1.5, "next"),
                    (1, "bigger"), (1, "spell"), (1.5, "capital_of"), (1.5, "sentence_about"),
                    (1, "json"), (1.5, "math"), (1, "first_letter"), (1, "reverse"), (1, "even_odd")])
    if k == "name":
        cat = g.choice(list(CATEGORY_WORDS.keys()))
        return ("Name %s." % a_an(cat), word_item(g.choice(CATEGORY_WORDS[cat])))
    if k == "list":
        cat = g.choice(list(CATEGORY_WORDS.keys()))
        if cat == "day of the week" and g.chance(0.4):
            return ("List the days of the week.", list_items(DAYS))
        if cat == "planet" and g.chance(0.4):
            return ("List the planets in order from the Sun.", list_items(PLANET_NAMES))
        n = g.randint(2, 4)
        items = g.sample(CATEGORY_WORDS[cat], n)
        return ("List %s %s." % (num_word(n), CATEGORY_PLURAL[cat]), list_items(items))
    if k == "opposite":
        x, y = g.choice(OPPOSITES)
        if g.chance(0.5):
            x, y = y, x
        t = g.choice(['Give the opposite of the word "%s".', "Write the opposite of %s.",
                      "What is the opposite of %s?"])
        return (t % x, word_item(y))
    if k == "opp_sentence":
        adjs, nouns = g.choice(ADJ_NOUNS)
        noun = g.choice(nouns)
        x, y = adjs if g.chance(0.5) else (adjs[1], adjs[0])
        return ("Rewrite the sentence with the opposite word: The %s is %s." % (noun, x),
                "The %s is %s." % (noun, y))
    if k == "sort_num":
        n = g.randint(3, 6)
        hi = 20 if g.chance(0.6) else 99
        nums = g.sample(list(range(hi + 1)), n)
        if g.chance(0.7):
            return ("Sort these numbers from smallest to largest: %s." % ", ".join(map(str, nums)),
                    ", ".join(map(str, sorted(nums))))
        return ("Sort these numbers from largest to smallest: %s." % ", ".join(map(str, nums)),
                ", ".join(map(str, sorted(nums, reverse=True))))
    if k == "sort_words":
        pool = g.choice([ANIMAL_NAMES, FRUIT_NAMES, COLOURS, SPELL_WORDS])
        words = g.sample(pool, g.randint(3, 5))
        return ("Sort these words in alphabetical order: %s." % ", ".join(words),
                list_items(sorted(words)))
    if k == "count_letters":
        w = g.choice(SPELL_WORDS + ANIMAL_NAMES + COLOURS)
        return ('How many letters are in the word "%s"?' % w, str(len(w)))
    if k == "count_words":
        s = simple_sentence(g)
        n = len(s.rstrip(".").split())
        return ("Count the words in this sentence: %s" % s, str(n))
    if k == "count_items":
        cat = g.choice(["animal", "fruit", "colour"])
        items = g.sample(CATEGORY_WORDS[cat], g.randint(2, 7))
        return ("Count the items in this list: %s." % ", ".join(items), str(len(items)))
    if k == "capitals":
        s = simple_sentence(g) if g.chance(0.7) else fact_animal(g, g.choice(ANIMALS))
        return ("Rewrite this sentence in capital letters: %s" % s, s.upper())
    if k == "complete":
        j = g.randint(0, 5)
        if j == 0:
            c = g.choice(COUNTRIES)
            pre, end = "The capital of %s is" % c[0], c[1]
        elif j == 1:
            t = g.choice(COLOURED_THINGS)
            pre, end = "%s is" % cap(t[0]), t[2]
        elif j == 2:
            an = g.choice([x for x in ANIMALS if x[3]])
            pre, end = "%s says" % cap(a_an(an[0])), '"%s"' % an[3]
        elif j == 3:
            x, y = g.choice(OPPOSITES)
            pre, end = "The opposite of %s is" % x, y
        elif j == 4:
            i = g.randint(0, 6)
            pre, end = "The day after %s is" % DAYS[i], DAYS[(i + 1) % 7]
        else:
            an = g.choice([x for x in ANIMALS if x[2] is not None])
            pre, end = "%s has" % cap(a_an(an[0])), legs_phrase(an[2])
        return ("Complete the sentence: %s ..." % pre, "%s %s." % (pre, end))
    if k == "yesno":
        j = g.randint(0, 4)
        if j == 0:
            c = g.choice(COUNTRIES)
            truth = g.chance(0.5)
            cap_ = c[1] if truth else g.choice([x[1] for x in COUNTRIES if x[1] != c[1]])
            q = "Is %s the capital of %s?" % (cap_, c[0])
        elif j == 1:
            an = g.choice([x for x in ANIMALS if x[8] is not None])
            truth = an[8]
            q = "Can %s fly?" % a_an(an[0])
        elif j == 2:
            t = g.choice(COLOURED_THINGS)
            truth = g.chance(0.5)
            col = t[2] if truth else g.choice(WRONG_COLOURS[t[2]])
            q = "Is %s %s?" % (t[0], col)
        elif j == 3:
            a, b = g.sample(list(range(0, 21)), 2)
            truth = a > b
            q = "Is %d bigger than %d?" % (a, b)
        else:
            an = g.choice([x for x in ANIMALS if x[2] is not None])
            n = an[2] if g.chance(0.5) else g.choice([x for x in (0, 2, 4, 6, 8) if x != an[2]])
            truth = n == an[2]
            q = "Does %s have %s?" % (a_an(an[0]), legs_phrase(n))
        return ("Answer yes or no: %s" % q, "Yes." if truth else "No.")
    if k == "plural":
        sg, pl = g.choice(PLURALS)
        return ("Write the plural of %s." % sg, word_item(pl))
    if k == "next":
        step = g.randint(1, 5)
        start = g.randint(0, 20)
        n = g.randint(3, 5)
        seq = [start + step * i for i in range(n)]
        return ("What comes next: %s, ...?" % ", ".join(map(str, seq)), str(start + step * n))
    if k == "bigger":
        a, b = g.sample(list(range(0, 100 if g.chance(0.3) else 21)), 2)
        if g.chance(0.5):
            return ("Which number is bigger: %d or %d?" % (a, b), str(max(a, b)))
        return ("Which number is smaller: %d or %d?" % (a, b), str(min(a, b)))
    if k == "spell":
        w = g.choice(SPELL_WORDS)
        return ("Spell the word %s." % w, "-".join(w.upper()))
    if k == "capital_of":
        c = g.choice(COUNTRIES)
        return ("Name the capital of %s." % c[0], word_item(c[1]))
    if k == "sentence_about":
        an = g.choice(ANIMALS)
        return ("Write a sentence about %s." % a_an(an[0]), fact_animal(g, an))
    if k == "json":
        j = g.randint(0, 2)
        if j == 0:
            c = g.choice(COUNTRIES)
            return ("Give the capital of %s as JSON." % c[0],
                    '{"country": "%s", "capital": "%s"}' % (c[0], c[1]))
        if j == 1:
            an = g.choice([x for x in ANIMALS if x[2] is not None])
            return ("Describe %s as JSON with its number of legs." % a_an(an[0]),
                    '{"animal": "%s", "legs": %d}' % (an[0], an[2]))
        a, b = g.randint(0, 20), g.randint(0, 20)
        return ("Add %d and %d. Answer as JSON." % (a, b), '{"answer": %d}' % (a + b))
    if k == "math":
        j = g.randint(0, 2)
        a, b = g.randint(0, 20), g.randint(0, 20)
        if j == 0:
            return ("Add %d and %d." % (a, b), str(a + b))
        if j == 1:
            a, b = max(a, b), min(a, b)
            return ("Subtract %d from %d." % (b, a), str(a - b))
        a, b = g.randint(0, 10), g.randint(0, 10)
        return ("Multiply %d by %d." % (a, b), str(a * b))
    if k == "first_letter":
        w = g.choice(SPELL_WORDS + FRUIT_NAMES)
        return ('What is the first letter of the word "%s"?' % w, w[0].upper() + ".")
    if k == "reverse":
        words = g.sample(g.choice([ANIMAL_NAMES, COLOURS, FRUIT_NAMES]), g.randint(3, 4))
        return ("Reverse the order of these words: %s." % ", ".join(words), list_items(words[::-1]))
    n = g.randint(0, 50)
    return ("Is %d even or odd?" % n, "Even." if n % 2 == 0 else "Odd.")


def instruction_doc(g):
    q, a = instr_pair(g)
    return "### Instruction:\n%s\n### Response:\n%s" % (q, a)


# --------------------------------------------------------------------------------------
# Category: arithmetic
# --------------------------------------------------------------------------------------


def operand(g):
    return g.randint(0, 20) if g.chance(0.8) else g.randint(0, 99)


def equation(g):
    op = g.weighted([(4, "+"), (3, "-"), (3, "*")])
    if op == "*":
        if g.chance(0.8):
            a, b = g.randint(0, 12), g.randint(0, 12)
        else:
            a, b = g.randint(10, 30), g.randint(0, 9)
            if g.chance(0.5):
                a, b = b, a
        return a, op, b, a * b
    a, b = operand(g), operand(g)
    if op == "-":
        a, b = max(a, b), min(a, b)
        return a, op, b, a - b
    return a, op, b, a + b


WORD_OBJECTS = [("apple", "apples"), ("ball", "balls"), ("book", "books"), ("cookie", "cookies"),
                ("flower", "flowers"), ("pencil", "pencils"), ("egg", "eggs"), ("orange", "oranges")]


def word_problem(g):
    name, pr = g.person()
    P = PRON[pr]
    sg, pl = g.choice(WORD_OBJECTS)
    a = g.randint(2, 20)
    k = g.randint(0, 2)
    if k == 0:
        b = g.randint(1, 10)
        name2, _ = g.person(exclude=(name,))
        q = "%s has %d %s. %s gives %s %d more. How many %s does %s have now?" % (
            name, a, pl, name2, P["obj"], b, pl, name)
        ans = a + b
    elif k == 1:
        b = g.randint(1, a)
        verb = "eats" if sg in ("apple", "cookie", "egg", "orange") else "gives away"
        q = "%s has %d %s. %s %s %d of them. How many %s does %s have now?" % (
            name, a, pl, cap(P["sub"]), verb, b, pl, name)
        ans = a - b
    else:
        a, b = g.randint(2, 6), g.randint(2, 6)
        q = "There are %d boxes. Each box has %d %s. How many %s are there in all?" % (a, b, pl, pl)
        ans = a * b
    return "Question: %s\nAnswer: %d" % (q, ans)


def arithmetic_doc(g):
    k = g.weighted([(4, "lines"), (4, "qa"), (2, "word"), (1, "words")])
    if k == "lines":
        return "\n".join("%d %s %d = %d" % equation(g) for _ in range(g.randint(3, 8)))
    if k == "qa":
        out = []
        for _ in range(g.weighted([(5, 1), (3, 2), (2, 3)])):
            a, op, b, c = equation(g)
            out.append("Question: What is %d %s %d?\nAnswer: %d" % (a, op, b, c))
        return "\n".join(out)
    if k == "word":
        return word_problem(g)
    out = []
    for _ in range(g.randint(2, 4)):
        a, op, b, c = equation(g)
        word = {"+": "plus", "-": "minus", "*": "times"}[op]
        out.append("%d %s %d is %d." % (a, word, b, c))
    return " ".join(out)


GENERATORS = {
    "story": story_doc,
    "fact": fact_doc,
    "qa": qa_doc,
    "instruction": instruction_doc,
    "arithmetic": arithmetic_doc,
}

# --------------------------------------------------------------------------------------
# Assembly
# --------------------------------------------------------------------------------------


def check_doc(doc):
    assert doc and doc == doc.strip("\n"), repr(doc)
    assert "\n\n" not in doc and "\r" not in doc and "\t" not in doc, repr(doc)
    for line in doc.split("\n"):
        assert line and line == line.strip(), repr(doc)
    doc.encode("ascii")


def build(seed, total_bytes):
    """Returns a list of (category, document), shuffled."""
    g = Gen(seed)
    docs = []
    for cat, share in CATEGORY_SHARES:
        budget = int(total_bytes * share)
        used = 0
        gen = GENERATORS[cat]
        while used < budget:
            doc = gen(g)
            check_doc(doc)
            docs.append((cat, doc))
            used += len(doc) + 2
    g.shuffle(docs)
    return docs


def render(docs):
    return "\n\n".join(d for _, d in docs) + "\n"


WORD_RE = re.compile(r"[A-Za-z]+")


def stats(name, docs, text):
    print("%s: %d bytes, %d documents, sha256 %s" % (
        name, len(text.encode()), len(docs), hashlib.sha256(text.encode()).hexdigest()[:16]))
    for cat, _ in CATEGORY_SHARES:
        sel = [d for c, d in docs if c == cat]
        nbytes = sum(len(d) + 2 for d in sel)
        print("  %-12s %6d docs %8d bytes (%4.1f%%)" % (cat, len(sel), nbytes, 100.0 * nbytes / len(text)))
    words = {}
    for w in WORD_RE.findall(text):
        w = w.lower()
        words[w] = words.get(w, 0) + 1
    print("  distinct words (case-folded, letters only): %d; word tokens: %d; max doc chars: %d"
          % (len(words), sum(words.values()), max(len(d) for _, d in docs)))


def main():
    train = build(TRAIN_SEED, TRAIN_BYTES)
    held = build(HELDOUT_SEED, HELDOUT_BYTES)
    for fname, docs in (("train.txt", train), ("heldout.txt", held)):
        text = render(docs)
        with open(os.path.join(HERE, fname), "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        if "--stats" in sys.argv:
            stats(fname, docs, text)
    if "--stats" in sys.argv:
        train_set = {}
        for _, d in train:
            train_set[d] = True
        dup = sum(1 for _, d in held if d in train_set)
        print("heldout documents also in train: %d of %d (%.1f%%)" % (dup, len(held), 100.0 * dup / len(held)))


if __name__ == "__main__":
    main()
