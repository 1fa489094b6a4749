// OpenCV, through its dnn module's own layer: cv::dnn::SoftmaxLayer::create with LayerParams
// axis = 1 (and log_softmax = true for LogSoftmax), shapes from getMemoryShapes, finalize, then
// Layer::forward(inputs, outputs, internals) in the timed loop, on cv::Mat headers over the
// harness's arrays (no copy) and the internal buffer the layer asks for. Layer, Mats and buffer are
// made once per shape. OpenCV has no logsumexp layer: absent for it. Single thread only
// (cv::setNumThreads(1)); its softmax layer does not split rows over threads, so there is no
// `threads` case for it. f32 only: OpenCV 4.6's SoftmaxLayer::forward asserts src.type() == CV_32F
// (a CV_64F input fails with "(-215:Assertion failed) src.type() == CV_32F in function 'forward'").
#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/dnn/all_layers.hpp>

#include <memory>
#include <string>
#include <vector>

#include "../harness.hpp"

namespace softcert::bench {

namespace {

struct Setup {
  cv::Ptr<cv::dnn::SoftmaxLayer> layer;
  std::vector<cv::Mat> inputs, outputs, internals;

  Setup(Fn f, const Shape& s) {
    cv::dnn::LayerParams params;
    params.set("axis", 1);
    params.set("log_softmax", f == Fn::log_softmax);
    layer = cv::dnn::SoftmaxLayer::create(params);
    const int sizes[2] = {static_cast<int>(s.rows), static_cast<int>(s.n)};
    inputs.emplace_back(2, sizes, CV_32F, const_cast<float*>(input<float>()));
    outputs.emplace_back(2, sizes, CV_32F, output<float>());
    std::vector<cv::dnn::MatShape> in_shapes{cv::dnn::MatShape{sizes[0], sizes[1]}}, out_shapes, internal_shapes;
    layer->getMemoryShapes(in_shapes, 1, out_shapes, internal_shapes);
    for (const cv::dnn::MatShape& shape : internal_shapes) internals.emplace_back(shape, CV_32F);
    layer->finalize(cv::InputArrayOfArrays(inputs), cv::OutputArrayOfArrays(outputs));
  }
};

}  // namespace

void register_opencv() {
  note("opencv_version", CV_VERSION);
  for (Fn f : {Fn::softmax, Fn::log_softmax}) {
    for (const Shape& s : shapes(Dtype::f32)) {
      if (s.kind == Case::threads) continue;
      auto setup = std::make_shared<std::unique_ptr<Setup>>();
      add(fn_name(f), "opencv", Kind::peer, s, [setup, f, s](benchmark::State& state) {
        cv::setNumThreads(1);
        try {
          if (!*setup) *setup = std::make_unique<Setup>(f, s);
          Setup& u = **setup;
          for (auto _ : state) u.layer->forward(u.inputs, u.outputs, u.internals);
          if (u.outputs[0].ptr<float>() != output<float>()) throw std::runtime_error("output Mat reallocated");
        } catch (const std::exception& e) {
          state.SkipWithError((std::string("OpenCV: ") + e.what()).c_str());
          return;
        }
        finish(state, Kind::peer, s, f);
      });
    }
  }
}

}  // namespace softcert::bench
