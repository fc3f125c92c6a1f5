#!/usr/bin/env python3
"""Writes stories.txt: ~30 KB of simple children's stories in the TinyStories style, made from
hand-written templates with a fixed seed (never the model's own output, and no test uses them), so
that bench/llmzip.sh measures the bundled model on text like its training data but unseen.
Run: python3 bench/data/make_stories.py > bench/data/stories.txt"""
import random

rng = random.Random(20240611)
NAMES = ["Lily", "Tom", "Mia", "Ben", "Sara", "Max", "Anna", "Sam", "Lucy", "Jack", "Emma", "Tim", "Zoe", "Leo"]
ANIMALS = ["dog", "cat", "bunny", "bird", "fish", "frog", "duck", "bear", "puppy", "kitten", "mouse", "horse"]
ADJ = ["big", "small", "red", "shiny", "soft", "happy", "funny", "little", "blue", "old", "pretty", "tall"]
THINGS = ["ball", "kite", "box", "hat", "cake", "flower", "boat", "car", "book", "toy", "drum", "balloon"]
PLACES = ["park", "garden", "forest", "beach", "house", "school", "pond", "farm", "hill", "river", "shop", "yard"]
FEEL = ["happy", "sad", "scared", "excited", "proud", "tired", "surprised", "angry", "curious", "kind"]
ACTIONS = ["run", "jump", "play", "dance", "sing", "swim", "climb", "hide", "draw", "read"]
WEATHER = ["sunny", "rainy", "windy", "cold", "warm", "cloudy"]
FOOD = ["apples", "cookies", "bread", "carrots", "soup", "ice cream", "pie", "berries"]


def pick(xs):
    return rng.choice(xs)


def story():
    a, b = rng.sample(NAMES, 2)
    pet, adj, thing, place = pick(ANIMALS), pick(ADJ), pick(THINGS), pick(PLACES)
    lines = []
    opening = rng.choice([
        f"Once upon a time, there was a {pick(['little', 'young', 'kind', 'shy'])} {pick(['girl', 'boy'])} named {a}.",
        f"One {pick(WEATHER)} day, {a} went to the {place} with {pick(['Mom', 'Dad', 'Grandma', 'a friend'])}.",
        f"There once was a {adj} {pet} who lived near the {place}.",
        f"{a} had a {adj} {thing}. {a} loved it very much.",
    ])
    lines.append(opening)
    lines.append(rng.choice([
        f"{a} liked to {pick(ACTIONS)} and {pick(ACTIONS)} all day.",
        f"Every morning, {a} ate {pick(FOOD)} and looked out the window.",
        f"The {pet} was {pick(FEEL)} because it wanted a friend.",
        f"{a} wanted to find something {pick(ADJ)} at the {place}.",
    ]))
    lines.append(rng.choice([
        f"One day, {a} saw a {adj} {thing} under a tree.",
        f"Then {b} came and said, \"Can I {pick(ACTIONS)} with you?\"",
        f"Suddenly, the {pet} ran away with the {thing}!",
        f"At the {place}, {a} met a {pick(FEEL)} {pet}.",
    ]))
    for _ in range(rng.randint(2, 5)):
        lines.append(rng.choice([
            f"\"{pick(['Look', 'Wow', 'Oh no', 'Yay', 'Hello'])}!\" said {pick([a, b])}. \"{pick(['This is fun', 'I am scared', 'Let us go', 'I found it', 'Please help me'])}.\"",
            f"{pick([a, b])} felt {pick(FEEL)}. {pick(['They', 'She', 'He'])} did not know what to do.",
            f"They went to the {pick(PLACES)} to look for the {thing}.",
            f"The {pet} wagged its tail and {pick(['jumped', 'barked', 'smiled', 'ran in circles', 'hopped'])}.",
            f"{b} had an idea. \"We can {pick(ACTIONS)} together!\"",
            f"It was {pick(WEATHER)}, so they {pick(['put on their coats', 'sat under a tree', 'went inside', 'played in the sun'])}.",
            f"{a} shared the {pick(FOOD)} with {b}, and they both smiled.",
        ]))
    lines.append(rng.choice([
        f"In the end, {a} and {b} were best friends.",
        f"{a} learned that sharing is good, and everyone was {pick(FEEL)}.",
        f"From that day on, the {pet} and {a} played at the {place} every day.",
        f"They went home, and {a} hugged the {adj} {thing}. The end.",
    ]))
    return " ".join(lines)


out = []
size = 0
while size < 30000:
    s = story()
    out.append(s)
    size += len(s) + 2
print("\n\n".join(out))
