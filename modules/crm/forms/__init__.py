"""CRM's web forms, one file per entity. They only collect input: the rules live in
services/, shared with the JSON API and the spreadsheet import."""
