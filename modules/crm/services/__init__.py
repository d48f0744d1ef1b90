"""CRM rules shared by the web views, the JSON API and the spreadsheet import."""
