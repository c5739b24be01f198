"""Trace and replay for ``cr.compile``: record the ops of one eager call (``recorder``), turn
the recording into a replay whose backward is one graph node (``graph``), and check before each
call that the recording still applies (``guards``)."""
