# YOLOv3 for the synthetic toy dataset: yolov3.py with 3 classes and anchors fitted to the toy
# shapes (k-means over its boxes).
_base_ = './yolov3.py'
model = dict(
    bbox_head=dict(
        num_classes=3,
        anchor_generator=dict(base_sizes=[[(56, 55), (60, 61), (67, 67)],
                                          [(44, 43), (47, 47), (50, 51)],
                                          [(29, 29), (35, 35), (39, 40)]])))
