"""`tracker demo`: a developing story served on 127.0.0.1, tracked as it changes."""
