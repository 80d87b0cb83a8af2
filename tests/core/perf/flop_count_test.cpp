// The FLOP counter behind the roofline tables, checked against counts done by hand from the
// layer shapes (2 FLOPs per multiply-add).
#include "models/audioldm/blocks.h"
#include "models/flop_count.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

using grym::FlopCount;

TEST_CASE("a resnet block counts its convolutions and time projection as done by hand", "[flops]") {
    torch::NoGradGuard noGrad;
    grym::audioldm::ResnetOptions o;
    o.inChannels = 4;
    o.outChannels = 8;
    o.timeEmbedChannels = 16;
    o.groups = 2;
    grym::audioldm::ResnetBlock2D block(o);
    FlopCount count;
    block->forward(torch::randn({1, 4, 6, 5}), torch::randn({1, 16}));
    // Output 8 x 6 x 5 = 240 entries. conv1: 4·9 products each; conv2: 8·9; the 1x1 shortcut: 4;
    // time_emb_proj: 8 outputs of 16 products.
    const uint64_t byHand = 2 * (240 * 36 + 240 * 72 + 240 * 4 + 8 * 16);
    CHECK(count.flops() == byHand);
}

TEST_CASE("attention counts its projections and both score products", "[flops]") {
    torch::NoGradGuard noGrad;
    grym::audioldm::AttentionOptions o;
    o.queryDim = 8;
    o.heads = 2;
    grym::audioldm::Attention attention(o);
    grym::audioldm::initialiseLinearLayers(*attention);
    FlopCount count;
    attention->forward(torch::randn({1, 10, 8}));
    // q, k, v, out: 10 tokens x 8 outputs of 8 products each. q·kᵀ and p·v: 2 heads x 10 x 10
    // x 4 (head width) multiply-adds each.
    const uint64_t byHand = 2 * (4 * 10 * 8 * 8 + 2 * (2 * 10 * 10 * 4));
    CHECK(count.flops() == byHand);
}

TEST_CASE("flop counts nest and count nothing outside a scope", "[flops]") {
    torch::NoGradGuard noGrad;
    const auto x = torch::randn({3, 5});
    FlopCount::addProducts(x, 7);  // no count alive: ignored
    FlopCount outer;
    {
        FlopCount inner;
        FlopCount::addProducts(x, 7);
        CHECK(inner.flops() == 2 * 15 * 7);
    }
    FlopCount::addProducts(x, 1);
    CHECK(outer.flops() == 2 * 15 * 7 + 2 * 15);
}
