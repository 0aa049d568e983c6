# What every deploy config here shares: ONNX (opset 17) for ONNX Runtime on the CPU, at a fixed
# 128x128 input (the toy configs' image size; for another size, change input_shape).
onnx_config = dict(
    type='onnx',
    export_params=True,
    keep_initializers_as_inputs=False,
    opset_version=17,
    save_file='end2end.onnx',
    input_names=['input'],
    input_shape=[128, 128],
    optimize=True)
backend_config = dict(type='onnxruntime')
