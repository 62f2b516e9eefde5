"""Walking expression trees, the way jinja2's visitor module walks templates.

`visit(node, *args)` calls the method named after the node's class (`visit_Attr(node, *args)`),
or `generic_visit` when there is none. A NodeVisitor's generic_visit visits the children and
gives nothing; a NodeTransformer's gives the node rebuilt from its visited children.
"""
from __future__ import annotations

from dataclasses import fields, replace

from .nodes import Node


class NodeVisitor:
    def visit(self, node: Node, *args):
        method = getattr(self, "visit_" + type(node).__name__, None)
        return self.generic_visit(node, *args) if method is None else method(node, *args)

    def generic_visit(self, node: Node, *args):
        for child in node.children():
            self.visit(child, *args)


class NodeTransformer(NodeVisitor):
    def generic_visit(self, node: Node, *args) -> Node:
        changes = {}
        for f in fields(node):
            value = getattr(node, f.name)
            if isinstance(value, Node):
                changes[f.name] = self.visit(value, *args)
            elif isinstance(value, tuple) and value and isinstance(value[0], Node):
                changes[f.name] = tuple(self.visit(item, *args) for item in value)
        return replace(node, **changes) if changes else node
