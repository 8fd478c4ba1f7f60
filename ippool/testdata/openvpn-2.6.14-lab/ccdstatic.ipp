alice,10.8.0.2,
carol,10.8.0.3,
