alice,,fd00:9::1
bob,,fd00:9::2
carol,,fd00:9::3
