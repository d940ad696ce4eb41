"""X (Twitter) direct messages: the tweepy client, the webhook codec, the poller and the X sandbox."""
