"""Rows without typing numbers: from API response bodies, around a command, from Python code.

- `appending`: `log_row`, one validated row to the log (a shard in the team layout);
- `usage_bodies`: model and token counts from OpenAI, Anthropic and Gemini response bodies;
- `running`: running a command as a shell would, timed (`run`);
- `tracking`: `try_log_row` and `track()`, logging from Python that never fails the caller.
"""
