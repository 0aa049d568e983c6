"""Whether a file is an image that can be read, for the tools that check inputs before use."""

import os.path as osp
from typing import Optional


def image_file_problem(path: str) -> Optional[str]:
    """What is wrong with the image file ``path`` (missing, a directory, empty, not an image,
    truncated), or None when it decodes completely. Decodes the whole file with Pillow: a
    truncated JPEG that OpenCV would return half grey is reported here."""
    if osp.isdir(path):
        return 'is a directory, not an image file'
    if not osp.isfile(path):
        return 'not found'
    if osp.getsize(path) == 0:
        return 'is empty (0 bytes)'
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
    except UnidentifiedImageError:
        return 'is not an image (no image format recognises it)'
    except (OSError, ValueError, SyntaxError) as e:  # what Pillow raises for damaged data
        return f'cannot be decoded completely ({e}): a truncated or damaged image'
    return None
