-- Run once by the postgres image on an empty volume: the API's own database
-- beside Rasa's tracker store (database rasa).
CREATE DATABASE prescreener;
