"""The implementations: everything that touches Keras, tf-keras or a backend.

:mod:`.loader` imports the implementation named on the command line in its flavour
(:mod:`.keras3`, :mod:`.keras2`; what they share is :mod:`.base`); :mod:`.backends` holds one
module per backend (GPU probe, device names, compiled function, autodiff) and their table;
:mod:`.cells` the suite's user-defined cells as Keras classes. Imports the specification only.
"""
