def owns(path: str) -> bool:
    return False


def route(emulator: object, call: object) -> None:
    return None
