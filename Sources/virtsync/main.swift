print("virtsync")
