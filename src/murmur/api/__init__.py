"""The Mini App's JSON API: Powertools resolver, request/response models, auth, error mapping."""
