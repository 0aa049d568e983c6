# YOLOv3 at 320x320 input: yolov3.py with the anchors mmdet's MobileNetV2 YOLOv3-320 uses.
_base_ = './yolov3.py'
model = dict(
    bbox_head=dict(
        anchor_generator=dict(
            base_sizes=[[(220, 125), (128, 222), (264, 266)],
                        [(35, 87), (102, 96), (60, 170)],
                        [(10, 15), (24, 36), (72, 42)]])))
