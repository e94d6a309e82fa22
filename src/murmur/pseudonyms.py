"""A sender's pseudonym in one inbox (an HMAC of recipient and sender under a server secret) and the readable
nickname derived from it. Blocks and nicknames use them; the owner never learns who is behind either."""

from __future__ import annotations

import hashlib
import hmac

# 128 adjectives x 128 animals x a five-digit number: NICKNAME_SPACE names (see `nickname`). English only: the
# nickname is stored on the message when it is sent, and the owner sees it as written.
_ADJECTIVES = (
    "Quiet", "Bright", "Gentle", "Swift", "Curious", "Brave", "Calm", "Clever", "Silver", "Golden",
    "Hidden", "Lucky", "Misty", "Polar", "Rapid", "Secret", "Shy", "Sunny", "Wild", "Velvet",
    "Amber", "Azure", "Bold", "Breezy", "Bubbly", "Candid", "Cheerful", "Cosmic", "Cozy", "Crimson",
    "Crystal", "Dapper", "Dashing", "Dreamy", "Eager", "Electric", "Emerald", "Fancy", "Fearless", "Festive",
    "Fluffy", "Friendly", "Frosty", "Fuzzy", "Glowing", "Graceful", "Happy", "Hazel", "Honest", "Humble",
    "Icy", "Indigo", "Jade", "Jolly", "Jovial", "Kind", "Lively", "Lunar", "Magic", "Mellow",
    "Merry", "Mighty", "Modest", "Nimble", "Noble", "Patient", "Peaceful", "Plucky", "Playful", "Proud",
    "Quick", "Radiant", "Rosy", "Royal", "Ruby", "Rustic", "Sandy", "Sapphire", "Scarlet", "Serene",
    "Silent", "Sleek", "Sleepy", "Smooth", "Snowy", "Solar", "Sparkly", "Speedy", "Spry", "Starry",
    "Steady", "Stellar", "Stormy", "Sturdy", "Sweet", "Tidy", "Tiny", "Tranquil", "Upbeat", "Vivid",
    "Warm", "Whimsical", "Windy", "Wise", "Witty", "Zesty", "Zippy", "Coral", "Dusky", "Foggy",
    "Mossy", "Cloudy", "Chilly", "Daring", "Dainty", "Gleeful", "Hopeful", "Joyful", "Lucid", "Mystic",
    "Nifty", "Oaken", "Pearly", "Rainy", "Sincere", "Snug", "Tender", "Thoughtful",
)  # fmt: skip
_ANIMALS = (
    "Fox", "Owl", "Otter", "Lynx", "Panda", "Heron", "Koala", "Raven", "Tiger", "Whale",
    "Falcon", "Badger", "Dolphin", "Hedgehog", "Moth", "Wolf", "Sparrow", "Seal", "Gecko", "Bison",
    "Alpaca", "Antelope", "Armadillo", "Beaver", "Beetle", "Bear", "Bee", "Butterfly", "Camel", "Canary",
    "Capybara", "Cat", "Cheetah", "Chipmunk", "Crane", "Cricket", "Deer", "Dove", "Duck", "Eagle",
    "Elk", "Emu", "Ferret", "Finch", "Flamingo", "Frog", "Gazelle", "Giraffe", "Goose", "Gorilla",
    "Hamster", "Hare", "Hawk", "Hippo", "Hummingbird", "Ibis", "Iguana", "Jaguar", "Jay", "Kangaroo",
    "Kingfisher", "Kitten", "Kiwi", "Ladybug", "Lark", "Lemur", "Leopard", "Lion", "Llama", "Lobster",
    "Magpie", "Mallard", "Manatee", "Marmot", "Meerkat", "Mink", "Mole", "Mongoose", "Moose", "Narwhal",
    "Newt", "Ocelot", "Octopus", "Orca", "Oriole", "Osprey", "Ostrich", "Panther", "Parrot", "Peacock",
    "Pelican", "Penguin", "Pheasant", "Pigeon", "Platypus", "Pony", "Puffin", "Puma", "Quail", "Rabbit",
    "Raccoon", "Reindeer", "Robin", "Salmon", "Seahorse", "Sloth", "Snail", "Squirrel", "Starling", "Stork",
    "Swan", "Tapir", "Toucan", "Turtle", "Walrus", "Weasel", "Wombat", "Wren", "Yak", "Zebra",
    "Pika", "Quokka", "Dingo", "Orangutan", "Cockatoo", "Bobcat", "Coyote", "Dragonfly",
)  # fmt: skip
_NUMBERS = 90_000  # 10000 ... 99999: always five digits
NICKNAME_SPACE = len(_ADJECTIVES) * len(_ANIMALS) * _NUMBERS  # 1,474,560,000


def pseudonym(secret: bytes, recipient_id: int, sender_id: int) -> str:
    """Stable per (recipient, sender), unlinkable across recipients, and reveals nothing without the secret."""
    return hmac.new(secret, f"{recipient_id}:{sender_id}".encode(), hashlib.sha256).hexdigest()[:24]


def nickname(pseudo: str) -> str:
    """A readable name derived from the pseudonym: the same sender gets the same one in one inbox.

    Two senders to one inbox must not share one. The name takes 64 bits of the pseudonym (an HMAC, so
    uniform) and spends them on 128 adjectives x 128 animals x 90,000 numbers: N = 1.47e9 names. The chance
    that some two of n senders to one inbox collide is 1 - prod(1 - i/N) ~ n^2 / 2N: 3.4e-6 for 100 senders,
    3.4e-4 for 1,000 (the target: below 1e-3), 1.4e-3 for 2,000. The old 20 x 20 x 90 = 36,000 names gave
    13 % for 100 senders and near-certainty for 1,000. Across inboxes the same name means nothing: the
    pseudonym, and so the name, differs per recipient.
    """
    value = int(pseudo[:16], 16)
    adjective = _ADJECTIVES[value % len(_ADJECTIVES)]
    animal = _ANIMALS[(value // len(_ADJECTIVES)) % len(_ANIMALS)]
    number = value // (len(_ADJECTIVES) * len(_ANIMALS)) % _NUMBERS + 10_000
    return f"{adjective} {animal} {number}"
