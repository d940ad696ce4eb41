"""The pure decision core: (stored state, one event) -> (new state, replies, commands). No I/O here."""

from bot.core.step import DecisionCore

__all__ = ["DecisionCore"]
