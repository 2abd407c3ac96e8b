"""A Home Assistant add-on.

Run it with `python -m garden_logger`.
"""
