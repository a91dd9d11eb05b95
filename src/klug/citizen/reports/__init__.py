"""The Mängelmelder: citizens report problems in public space; staff handle them; Open311."""
