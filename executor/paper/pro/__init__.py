"""Paper Pro: a second bundled test venue built like a real exchange's website, not for the desk.

It shares the paper exchange's accounts, instruments, prices, matching and faults (it calls
executor.paper's services and selectors) and has its own login session, its own pages under
/paper/pro/ and a JavaScript order ticket that talks to JSON endpoints. See README.md.
"""
