// OpenCV, through its dnn module's own layers, each created once per shape with its shapes from
// getMemoryShapes and finalize, then Layer::forward(inputs, outputs, internals) in the timed loop,
// on cv::Mat headers over the harness's arrays (no copy) and the internal buffers the layer asks
// for:
//   softmax      cv::dnn::SoftmaxLayer::create, LayerParams axis = 1, on {rows, n}
//   log_softmax  the same with log_softmax = true
//   sigmoid      cv::dnn::SigmoidLayer::create on a {1, 1, elements} blob: OpenCV's elementwise
//                layers split the plane (the dims after the first two) over threads, so one
//                sample of one channel is the layout that runs vectorised and in parallel (a
//                {1, elements} blob would go channel by channel, one element each)
// OpenCV has no logsumexp, cross-entropy, masked or tempered softmax, nor softmax backward layer:
// absent for those. Threads: cv::setNumThreads(1), or every core for sigmoid's `threads` case; its
// softmax layer does not split rows over threads, so softmax and log_softmax have no `threads`
// case. f32 only: OpenCV 4.6's layers compute in float (SoftmaxLayer::forward asserts src.type()
// == CV_32F: a CV_64F input fails with "(-215:Assertion failed) src.type() == CV_32F in function
// 'forward'"; the elementwise layers assert CV_32F too).
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
  cv::Ptr<cv::dnn::Layer> layer;
  std::vector<cv::Mat> inputs, outputs, internals;

  Setup(Fn f, const Shape& s) {
    std::vector<int> sizes{static_cast<int>(s.rows), static_cast<int>(s.n)};
    if (f == Fn::sigmoid) {
      layer = cv::dnn::SigmoidLayer::create(cv::dnn::LayerParams());
      sizes = {1, 1, static_cast<int>(s.elements())};
    } else {
      cv::dnn::LayerParams params;
      params.set("axis", 1);
      params.set("log_softmax", f == Fn::log_softmax);
      layer = cv::dnn::SoftmaxLayer::create(params);
    }
    const int dims = static_cast<int>(sizes.size());
    inputs.emplace_back(dims, sizes.data(), CV_32F, const_cast<float*>(input<float>()));
    outputs.emplace_back(dims, sizes.data(), CV_32F, output<float>());
    std::vector<cv::dnn::MatShape> in_shapes{cv::dnn::MatShape(sizes)}, out_shapes, internal_shapes;
    layer->getMemoryShapes(in_shapes, 1, out_shapes, internal_shapes);
    for (const cv::dnn::MatShape& shape : internal_shapes) internals.emplace_back(shape, CV_32F);
    layer->finalize(cv::InputArrayOfArrays(inputs), cv::OutputArrayOfArrays(outputs));
  }
};

}  // namespace

void register_opencv() {
  note("opencv_version", CV_VERSION);
  for (Fn f : {Fn::softmax, Fn::log_softmax, Fn::sigmoid}) {
    for (const Shape& s : shapes(Dtype::f32, f)) {
      if (s.kind == Case::threads && f != Fn::sigmoid) continue;
      auto setup = std::make_shared<std::unique_ptr<Setup>>();
      add(fn_name(f), "opencv", Kind::peer, s, [setup, f, s](benchmark::State& state) {
        cv::setNumThreads(s.kind == Case::threads ? static_cast<int>(thread_count()) : 1);
        try {
          if (!*setup) *setup = std::make_unique<Setup>(f, s);
          Setup& u = **setup;
          for (auto _ : state) u.layer->forward(u.inputs, u.outputs, u.internals);
          if (u.outputs[0].ptr<float>() != output<float>()) throw std::runtime_error("output Mat reallocated");
        } catch (const std::exception& e) {
          cv::setNumThreads(1);
          state.SkipWithError((std::string("OpenCV: ") + e.what()).c_str());
          return;
        }
        cv::setNumThreads(1);
        finish(state, Kind::peer, s, f);
      });
    }
  }
}

}  // namespace softcert::bench
