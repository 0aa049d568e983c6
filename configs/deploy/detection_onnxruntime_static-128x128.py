# mmdeploy: a detector (RetinaNet, YOLOv3) to ONNX Runtime at a fixed 128x128 input, boxes and
# labels out, mmdeploy's NMS in the graph. mmdeploy 1.3.1's wheel carries no deploy configs:
# these follow its detection_onnxruntime_static.py.
_base_ = './_base_/onnxruntime_static-128x128.py'
onnx_config = dict(output_names=['dets', 'labels'])
codebase_config = dict(
    type='mmdet',
    task='ObjectDetection',
    model_type='end2end',
    post_processing=dict(
        score_threshold=0.05,
        confidence_threshold=0.005,
        iou_threshold=0.5,
        max_output_boxes_per_class=200,
        pre_top_k=5000,
        keep_top_k=100,
        background_label_id=-1))
