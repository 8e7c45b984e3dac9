-- An alert's summary in every language of the catalogue (i18n.LOCALES), written when the
-- rule raises it: `summary` stays the deployment's language (BW_LOCALE, the contract's
-- field); `summaries` lets a reader of the other language read it in theirs (the console
-- in English on a Chinese deployment, an e-mail to an English-reading receiver).
-- {} for alerts written before, and for those a person or a rule writes in one language:
-- readers then get `summary`.
ALTER TABLE alert ADD COLUMN summaries jsonb NOT NULL DEFAULT '{}'::jsonb;
