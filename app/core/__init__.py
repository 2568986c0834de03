"""The core every feature builds on: the database, the web layer, languages, the workflow and its moves."""
