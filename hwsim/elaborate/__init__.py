"""Elaborate layer (layer 4): accelerator config -> component graph (the tile template
expanded, routes found in the connections); layers -> tiles."""
