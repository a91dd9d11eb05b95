"""The demo city: seeds and feeds simulated data through public interfaces."""
