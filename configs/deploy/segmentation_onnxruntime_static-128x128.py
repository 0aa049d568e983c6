# mmdeploy: a segmentor (SegFormer head, Semantic FPN, UperNet) to ONNX Runtime at a fixed
# 128x128 input (the toy configs' image size), the label map out (argmax in the graph).
# Follows mmdeploy's segmentation_onnxruntime_static-512x1024.py.
onnx_config = dict(
    type='onnx',
    export_params=True,
    keep_initializers_as_inputs=False,
    opset_version=17,
    save_file='end2end.onnx',
    input_names=['input'],
    output_names=['output'],
    input_shape=[128, 128],
    optimize=True)
codebase_config = dict(type='mmseg', task='Segmentation', with_argmax=True)
backend_config = dict(type='onnxruntime')
