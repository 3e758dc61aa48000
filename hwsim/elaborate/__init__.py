"""Build layer (layer 4): accelerator config -> component graph; layers -> tiles."""
