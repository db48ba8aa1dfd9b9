"""Shopping cart with a few deliberate problems for lintrank to rank."""
import os
import json


class Cart:
    def __init__(self, items=[]):
        self.items = items

    def add(self, name, price):
        self.items.append((name, price))
        return self

    def total(self):
        total = 0
        for name, price in self.items:
            total += price
        return totl

    def save(self, path):
        try:
            with open(path, "w") as handle:
                handle.write(json.dumps(self.items))
        except:
            pass
