"""Pure energy calculations: accounting, solar model, load profiles, scenarios, forecasts.

No database, no web: every function takes arrays (or pandas objects) and returns arrays,
so each can be checked in a notebook. Times are UTC; hours are ``int64`` µs since the
epoch at the start of the hour unless a function says otherwise. Units are in names:
``*_kw`` power, ``*_kwh`` energy, ``*_kwp`` peak power, ``*_t`` tonnes.
"""
