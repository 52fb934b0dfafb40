"""Analytics: post metrics, sentiment, competitors and performance predictions."""
