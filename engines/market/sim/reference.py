"""Reference figures the simulator's market is built around: index levels and a liquid NSE stock list.

Levels are rounded late-2025 values, good enough for realistic prices, tick sizes and margins. Each
simulated day's levels come from a daily process that starts near them on the anchor date and is pulled
back towards them slowly (engines/market/sim/daily.py), so any date in the rules' range stays near them.
Turnovers and liquidity weights are rough magnitudes that only scale volumes, depth and spreads.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class IndexProfile:
    level: float  # rupees
    annual_vol: float  # realised close to close, as a fraction
    beta: float  # to NIFTY (1 for NIFTY itself); the rest of annual_vol is the index's own
    atm_iv: float  # implied, as a fraction
    put_skew: float  # IV change per unit of log-moneyness (negative: puts richer)
    smile: float  # IV curvature per unit of log-moneyness squared
    dividend_yield: float  # annual, as a fraction: the forward carries at the rate less this
    liquidity: float  # derivatives' trading, depth and open interest relative to NIFTY's


INDEX_PROFILES: dict[str, IndexProfile] = {
    "NIFTY": IndexProfile(26_000.0, 0.13, 1.0, 0.12, -0.35, 2.5, 0.012, 1.0),
    "BANKNIFTY": IndexProfile(59_000.0, 0.15, 1.1, 0.135, -0.30, 2.2, 0.008, 0.5),
    "FINNIFTY": IndexProfile(27_500.0, 0.14, 1.0, 0.13, -0.30, 2.2, 0.009, 0.1),
    "MIDCPNIFTY": IndexProfile(13_500.0, 0.17, 1.1, 0.15, -0.30, 2.2, 0.007, 0.08),
}


@dataclass(frozen=True, slots=True)
class StockProfile:
    name: str
    price: float  # rupees
    beta: float  # to NIFTY
    idio_vol: float  # annual idiosyncratic volatility
    turnover_cr: float  # typical daily turnover, rupees crore


STOCKS: dict[str, StockProfile] = {
    "RELIANCE": StockProfile("RELIANCE INDUSTRIES", 1510.0, 1.05, 0.18, 1500),
    "HDFCBANK": StockProfile("HDFC BANK", 990.0, 0.95, 0.15, 1800),
    "ICICIBANK": StockProfile("ICICI BANK", 1380.0, 1.05, 0.17, 1300),
    "INFY": StockProfile("INFOSYS", 1550.0, 0.85, 0.20, 1000),
    "TCS": StockProfile("TATA CONSULTANCY SERV", 3100.0, 0.75, 0.18, 900),
    "SBIN": StockProfile("STATE BANK OF INDIA", 950.0, 1.20, 0.20, 1000),
    "BHARTIARTL": StockProfile("BHARTI AIRTEL", 2100.0, 0.80, 0.17, 900),
    "ITC": StockProfile("ITC", 410.0, 0.60, 0.16, 600),
    "LT": StockProfile("LARSEN & TOUBRO", 4000.0, 1.10, 0.19, 700),
    "KOTAKBANK": StockProfile("KOTAK MAHINDRA BANK", 2100.0, 0.95, 0.18, 700),
    "AXISBANK": StockProfile("AXIS BANK", 1250.0, 1.15, 0.20, 900),
    "HINDUNILVR": StockProfile("HINDUSTAN UNILEVER", 2400.0, 0.55, 0.16, 400),
    "BAJFINANCE": StockProfile("BAJAJ FINANCE", 1000.0, 1.30, 0.24, 900),
    "MARUTI": StockProfile("MARUTI SUZUKI INDIA", 16000.0, 0.85, 0.19, 500),
    "SUNPHARMA": StockProfile("SUN PHARMACEUTICAL IND", 1750.0, 0.55, 0.18, 400),
    "M&M": StockProfile("MAHINDRA & MAHINDRA", 3600.0, 1.10, 0.22, 800),
    "TITAN": StockProfile("TITAN COMPANY", 3800.0, 0.90, 0.20, 400),
    "NTPC": StockProfile("NTPC", 330.0, 0.95, 0.20, 500),
    "POWERGRID": StockProfile("POWER GRID CORP", 280.0, 0.80, 0.18, 400),
    "ONGC": StockProfile("OIL AND NATURAL GAS CORP", 245.0, 1.00, 0.24, 350),
    "TATASTEEL": StockProfile("TATA STEEL", 170.0, 1.35, 0.27, 600),
    "JSWSTEEL": StockProfile("JSW STEEL", 1150.0, 1.25, 0.25, 300),
    "HCLTECH": StockProfile("HCL TECHNOLOGIES", 1600.0, 0.80, 0.20, 500),
    "WIPRO": StockProfile("WIPRO", 245.0, 0.80, 0.21, 300),
    "TECHM": StockProfile("TECH MAHINDRA", 1500.0, 0.90, 0.23, 300),
    "ULTRACEMCO": StockProfile("ULTRATECH CEMENT", 11800.0, 0.85, 0.19, 300),
    "ASIANPAINT": StockProfile("ASIAN PAINTS", 2800.0, 0.65, 0.20, 300),
    "NESTLEIND": StockProfile("NESTLE INDIA", 1250.0, 0.50, 0.16, 200),
    "ADANIENT": StockProfile("ADANI ENTERPRISES", 2400.0, 1.40, 0.35, 600),
    "ADANIPORTS": StockProfile("ADANI PORTS AND SEZ", 1450.0, 1.30, 0.30, 500),
    "COALINDIA": StockProfile("COAL INDIA", 380.0, 0.90, 0.22, 300),
    "BAJAJFINSV": StockProfile("BAJAJ FINSERV", 2000.0, 1.15, 0.22, 300),
    "BAJAJ-AUTO": StockProfile("BAJAJ AUTO", 9000.0, 0.80, 0.20, 300),
    "EICHERMOT": StockProfile("EICHER MOTORS", 7000.0, 0.85, 0.22, 300),
    "HINDALCO": StockProfile("HINDALCO INDUSTRIES", 800.0, 1.30, 0.26, 400),
    "GRASIM": StockProfile("GRASIM INDUSTRIES", 2800.0, 1.00, 0.20, 200),
    "CIPLA": StockProfile("CIPLA", 1500.0, 0.55, 0.19, 300),
    "DRREDDY": StockProfile("DR. REDDY'S LABORATORIES", 1250.0, 0.55, 0.19, 300),
    "APOLLOHOSP": StockProfile("APOLLO HOSPITALS ENTER.", 7500.0, 0.70, 0.21, 250),
    "HDFCLIFE": StockProfile("HDFC LIFE INSURANCE", 760.0, 0.75, 0.20, 250),
    "SBILIFE": StockProfile("SBI LIFE INSURANCE", 2000.0, 0.75, 0.19, 200),
    "TATACONSUM": StockProfile("TATA CONSUMER PRODUCTS", 1150.0, 0.70, 0.20, 200),
    "BEL": StockProfile("BHARAT ELECTRONICS", 410.0, 1.20, 0.28, 700),
    "TRENT": StockProfile("TRENT", 4500.0, 1.10, 0.30, 700),
    "SHRIRAMFIN": StockProfile("SHRIRAM FINANCE", 800.0, 1.30, 0.28, 500),
    "ETERNAL": StockProfile("ETERNAL", 300.0, 1.40, 0.35, 1200),
    "JIOFIN": StockProfile("JIO FINANCIAL SERVICES", 300.0, 1.20, 0.28, 400),
    "INDUSINDBK": StockProfile("INDUSIND BANK", 850.0, 1.35, 0.32, 600),
    "HEROMOTOCO": StockProfile("HERO MOTOCORP", 5500.0, 0.80, 0.21, 300),
    "MAXHEALTH": StockProfile("MAX HEALTHCARE INS", 1150.0, 0.90, 0.26, 250),
}
