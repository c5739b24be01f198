"""Shared by every test folder: pytest puts this folder on sys.path, so helper modules here
(``torch_compare``) import by name."""
