"""Charts of any table or query result: columns streamed into numeric arrays, binned, thinned to draw."""
