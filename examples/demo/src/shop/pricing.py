def discount(price, percent):
    if percent == None:
        return price
    rate = percent/100
    return price - price*rate


def tax( price ):
    return price * 1.2  # a very long comment that goes on and on past the conventional line length limit
