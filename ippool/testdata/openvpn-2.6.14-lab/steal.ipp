dave,10.9.0.2,
alice,10.9.0.3,
carol,10.9.0.4,
