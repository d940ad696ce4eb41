"""The durable runtime: inbox -> one step per event -> outbox -> executors -> results back as events."""
