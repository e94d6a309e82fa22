"""Murmur: an anonymous inbox inside Telegram, paid with Telegram Stars."""
