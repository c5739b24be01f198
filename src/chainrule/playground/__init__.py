"""The Playground: train chainrule networks live in the browser (``chainrule playground``).

``session.Session`` is the training state of one tab (``training`` steps its network, ``frames``
builds what the page draws, ``handlers`` applies the page's messages), ``protocol`` the message
schema (PROTOCOL.md is the contract with the page), ``server`` the Starlette app and its
WebSockets.
The server's dependencies are the ``playground`` extra: ``pip install chainrule[playground]``.
"""
