"""The operators of the rule language, in one place: how Python's parser spells them, what they
compute, how a comparison reads mirrored or negated, and how tightly each binds.
"""
from __future__ import annotations

import ast
import operator

# Python's operator nodes -> the language's operators (the parser refuses every other one)
ARITHMETIC = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
COMPARISONS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
               ast.In: "in", ast.NotIn: "not in"}
UNARY = {ast.USub: "-", ast.UAdd: "+", ast.Not: "not"}

# + - * on two numbers (/ divides exactly, see values.arith)
ON_NUMBERS = {"+": operator.add, "-": operator.sub, "*": operator.mul}
# the comparisons that order two values of one kind (numbers, dates or texts)
ORDERING = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
GREATER = (">", ">=")  # x > c and x >= c bound x from below
LESS = ("<", "<=")

# a op b  is  b FLIP[op] a
FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
# not (a op b)  is  a NEGATION[op] b, when a and b are present (a comparison with null is false either way)
NEGATION = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}

# how tightly each binds, for writing a tree back as text; "compare" is every comparison, "neg" unary -
PRECEDENCE = {"or": 1, "and": 2, "not": 3, "compare": 4, "+": 5, "-": 5, "*": 6, "/": 6, "neg": 7}
