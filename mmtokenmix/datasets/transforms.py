"""Data transforms of the plugin."""

from mmcv.transforms import LoadImageFromFile as MMCVLoadImageFromFile

from mmtokenmix.registry import TRANSFORMS


class ImageFileError(ValueError):
    """An image file of a dataset cannot be read; the message names it."""


@TRANSFORMS.register_module()
class LoadImageFromFile(MMCVLoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` (same arguments, same results) whose errors name the file:
    mmcv re-raises OpenCV's decoding error (``cv2.error: !buf.empty()`` for an empty file),
    which does not say which of a dataset's images it was. ``tools/train.py`` and
    ``tools/test.py`` put this class in place of mmcv's in every dataset pipeline."""

    def transform(self, results: dict):
        try:
            return super().transform(results)
        except Exception as e:
            path = results.get('img_path')
            raise ImageFileError(
                f'cannot read image {path!r}: {type(e).__name__}: '
                f'{str(e).strip()} (an empty, truncated or non-image file? '
                'tools/misc/check_dataset.py CONFIG lists them all)'
            ) from e
