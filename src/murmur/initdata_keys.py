"""Telegram's Ed25519 public keys that sign Mini App initData (Bot API 8.0), as published in the Mini Apps docs
(#validating-data-for-third-party-use); checked against a Telegram-issued initData in the tests. A leaf: the
validator (`murmur.telegram.initdata`) and `murmur.config` both read them."""

PRODUCTION_PUBLIC_KEY = "e7bf03a2fa4602af4580703d88dda5bb59f32ed8b02a56c187fe7d34caed242d"
TEST_PUBLIC_KEY = "40055058a4ee38156a06562e52eece92a771bcd8346a8c4615cb7376eddf72ec"
