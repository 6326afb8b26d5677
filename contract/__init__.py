"""The referral contract shared by the action server and the API (standard library only).

Both environments import it (the Rasa one on Python 3.10, the API one on
3.11), so nothing here may import anything outside the standard library:

- `names`: outcome, criterion-status, referral-status and respondent names;
- `referral.schema.json` (read by `schema`): the shape of a referral record;
- `chat_custom.schema.json` (read by `schema`): the `custom` keys of a bot
  message (`asks`, `outcome`, `urgent`, `outcome_reasons`) the chat gateway reads;
- `validate`: a small validator for the part of JSON Schema the schemas use;
- `bounds`: limits read from the schema, and the bounding of patient-given values;
- `typed_text`: typed text as the bot may see it (the gateway and the Rasa channel);
- `private_files`: database files readable by their owner only.
"""
