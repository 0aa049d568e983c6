# mmdeploy: a segmentor (SegFormer head, Semantic FPN, UperNet) to ONNX Runtime at a fixed
# 128x128 input, the label map out (argmax in the graph). Follows mmdeploy's
# segmentation_onnxruntime_static-512x1024.py.
_base_ = './_base_/onnxruntime_static-128x128.py'
onnx_config = dict(output_names=['output'])
codebase_config = dict(type='mmseg', task='Segmentation', with_argmax=True)
