# mmdeploy: an instance segmentor (Mask R-CNN) to ONNX Runtime at a fixed 128x128 input (the
# toy configs' image size): boxes, labels and each box's mask (resized to the image outside
# the graph, as mmdeploy does by default). Follows mmdeploy's
# instance-seg_onnxruntime_static.py.
_base_ = './detection_onnxruntime_static-128x128.py'
onnx_config = dict(output_names=['dets', 'labels', 'masks'])
codebase_config = dict(post_processing=dict(export_postprocess_mask=False))
