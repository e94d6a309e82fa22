"""Everything that speaks Telegram: initData checks, the bot, deep links."""
